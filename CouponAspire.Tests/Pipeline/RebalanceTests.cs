
namespace CouponAspire.Tests.Pipeline;

/// <summary>Consumers joining and leaving while requests pour in: partitions move, messages are redelivered.</summary>
public sealed class RebalanceTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Consumers_joining_and_leaving_mid_sale_change_no_outcome()
    {
        await using var system = await CouponSystem.StartAsync(postgres, partitions: 6, consumers: 1);
        long[] policies = [await system.CreatePolicyAsync(150), await system.CreatePolicyAsync(60), await system.CreatePolicyAsync(400)];

        var sale = FlashSale.RunAsync(system, policies, count: 5000, users: 900, concurrency: 8, seed: 3, cancellationToken: TestContext.Current.CancellationToken);
        await Task.Delay(700, TestContext.Current.CancellationToken);
        var second = system.AddConsumer();
        await Task.Delay(700, TestContext.Current.CancellationToken);
        await system.StopConsumerAsync(system.Consumers[0]);
        await Task.Delay(700, TestContext.Current.CancellationToken);
        system.AddConsumer();
        await Task.Delay(700, TestContext.Current.CancellationToken);
        await system.StopConsumerAsync(second);
        var (accepted, _) = await sale;

        await Invariants.AssertAllHoldAsync(system, accepted, TimeSpan.FromSeconds(90));
        TestContext.Current.TestOutputHelper?.WriteLine($"accepted {accepted.Count}");
    }
}
