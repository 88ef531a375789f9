namespace CouponAspire.Tests.Faults;

/// <summary>Kafka refusing the consumers' decisions while requests are decided.</summary>
[Collection(FaultCollection.Name)]
public sealed class DecisionPublishFaultTests(PostgresFixture postgres)
{
    private const int RequestsBroker = 1;
    private const int DecisionsBroker = 3;

    [Fact(Timeout = Timeouts.Fault)]
    public async Task Kafka_refusing_decisions_for_a_while_holds_their_offsets_back_and_leaves_no_decision_missing_or_changed()
    {
        // A publish gives up after 2 s instead of 10, so that the fault meets several batches within the drill.
        await using var system = await CouponSystem.StartAsync(
            postgres, partitions: 3, consumers: 0, settings: new Dictionary<string, string?> { ["Aspire:Confluent:Kafka:Producer:Config:MessageTimeoutMs"] = "2000" });

        // The decisions on a broker of their own, which can then refuse them alone: the requests, the dead letters and
        // the consumer group are on another.
        system.Kafka.SetCoordinator("group", CouponTopics.ConsumerGroup, RequestsBroker);
        system.Kafka.SetPartitionLeader(CouponTopics.DeadLetters, 0, RequestsBroker);
        for (var partition = 0; partition < system.Partitions; partition++)
        {
            system.Kafka.SetPartitionLeader(CouponTopics.Requests, partition, RequestsBroker);
            system.Kafka.SetPartitionLeader(CouponTopics.Decisions, partition, DecisionsBroker);
        }

        system.AddConsumer();
        system.AddConsumer();
        await system.WaitForGroupAsync();
        long[] policies = [await system.CreatePolicyAsync(150), await system.CreatePolicyAsync(100_000)];
        var drill = new FaultDrill(system, policies, users: 1500);
        var mark = 0;

        await drill.RunAsync(
            injectWhen: moment => Task.FromResult(moment.Decided >= 200 && moment.Decided < moment.Accepted),
            inject: _ =>
            {
                mark = system.Log.Mark;
                system.Kafka.SetBrokerDown(DecisionsBroker);
                return Task.CompletedTask;
            },
            // A batch whose decisions the broker would not take: its offsets were not stored, and it is read again.
            struck: "a batch whose decisions Kafka refused, to be read again",
            hasStruck: () => Task.FromResult(system.Log.Retries(mark) > 0),
            heal: () =>
            {
                system.Kafka.SetBrokerUp(DecisionsBroker);
                return Task.CompletedTask;
            });

        // The drill's invariants hold: every stored outcome on coupon-decisions, in its requests' order, identical where it
        // was published again. The batches read again had been committed: their requests were answered from their
        // stored outcomes, which is what was published again.
        system.Log.Replayed(mark).ShouldBeGreaterThan(0, "a batch committed before its decisions were refused");
    }
}
