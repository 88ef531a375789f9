using CouponAspire.Tests.Faults;

namespace CouponAspire.Tests.Pipeline;

/// <summary>Consumers joining and leaving while requests pour in: partitions move while their requests are decided.</summary>
[Collection(FaultCollection.Name)]
public sealed class RebalanceTests(PostgresFixture postgres)
{
    [Fact(Timeout = Timeouts.System)]
    public async Task Consumers_joining_and_leaving_while_requests_are_decided_move_partitions_and_change_no_outcome()
    {
        await using var system = await CouponSystem.StartAsync(postgres, partitions: 6, consumers: 1);
        long[] policies = [await system.CreatePolicyAsync(150), await system.CreatePolicyAsync(60), await system.CreatePolicyAsync(10_000)];
        var first = system.Consumers[0];
        var drill = new FaultDrill(system, policies, users: 5000, concurrency: 8);
        var mark = 0;
        ServiceFactory<Consumer.Consuming.CouponConsumerOptions> second = null!;

        await drill.RunAsync(
            injectWhen: moment => Task.FromResult(moment.Decided >= 200 && moment.Decided < moment.Accepted),
            // A second member joins: the first hands over partitions while it decides them.
            inject: _ =>
            {
                mark = system.Log.Mark;
                second = system.AddConsumer();
                return Task.CompletedTask;
            },
            struck: "partitions revoked from the first member and assigned to the second",
            hasStruck: () => Task.FromResult(system.Log.PartitionChanges("revoked", mark) > 0 && system.Log.Assignment(second.Name).Count > 0),
            // Then the first leaves, and the second holds everything.
            heal: () => system.StopConsumerAsync(first));

        system.Log.Assignment(second.Name).Count.ShouldBe(system.Partitions);
    }
}
