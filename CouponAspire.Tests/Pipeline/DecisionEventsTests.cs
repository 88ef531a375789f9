using System.Text;
using Confluent.Kafka;

namespace CouponAspire.Tests.Pipeline;

/// <summary>Decisions are events: coupon-decisions carries every decision, as a subscriber would read it.</summary>
public sealed class DecisionEventsTests(PostgresFixture postgres)
{
    [Fact(Timeout = Timeouts.System)]
    public async Task Every_decision_is_published_keyed_by_its_policy_with_the_quantity_left_and_its_requests_trace()
    {
        await using var system = await CouponSystem.StartAsync(postgres, partitions: 6, consumers: 2);
        long[] policies = [await system.CreatePolicyAsync(30), await system.CreatePolicyAsync(50)];

        // A group that settles while the sale runs hands partitions over, and a request decided before the handover may
        // be decided (and published) again by the next owner: this test wants none of that.
        await system.WaitForGroupAsync();

        var sale = await FlashSale.RunAsync(system, policies, count: 600, users: 120, concurrency: 16, seed: 29);

        // Every stored outcome on the topic, per policy in the order of its requests, on their partition, as stored.
        await Invariants.AssertAllHoldAsync(system, sale.Accepted, TimeSpan.FromMinutes(1));
        var requests = KafkaLog.ReadAll(system.Kafka.BootstrapServers, CouponTopics.Requests).ToDictionary(m => Read(m).RequestId);
        var decisions = KafkaLog.ReadAll(system.Kafka.BootstrapServers, CouponTopics.Decisions);
        decisions.Count.ShouldBe(sale.Accepted.Count, "one decision per accepted request, none published twice in a sale without faults or rebalances");
        foreach (var message in decisions)
        {
            CouponDecidedCodec.TryDecode(message.Message.Key, message.Message.Value, out var decision, out var error).ShouldBeTrue(error);
            message.Message.Key.ShouldBe(decision.PolicyId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            var request = requests[decision.RequestId];
            TraceId(message.Message.Headers).ShouldBe(TraceId(request.Message.Headers), "a decision is published in its request's trace");
        }

        foreach (var policy in policies)
        {
            var last = decisions.Select(m => CouponDecidedCodec.TryDecode(m.Message.Key, m.Message.Value, out var d, out _) ? d : null).Last(d => d!.PolicyId == policy)!;
            last.RemainingQuantity.ShouldBe(0, "each policy sold out, and its last decision says so");
        }
    }

    [Fact(Timeout = Timeouts.System)]
    public async Task A_redelivered_request_publishes_its_stored_outcome_again_unchanged()
    {
        await using var system = await CouponSystem.StartAsync(postgres, partitions: 3, consumers: 1);
        var policy = await system.CreatePolicyAsync(totalQuantity: 1);
        string[] accepted = [(await system.RequestAsync(policy, userId: 1))!, (await system.RequestAsync(policy, userId: 2))!];
        await system.WaitUntilDecidedAsync(accepted);
        await Eventually.UntilAsync(() => KafkaLog.ReadAll(system.Kafka.BootstrapServers, CouponTopics.Decisions).Count == 2, "both decisions published", TimeSpan.FromSeconds(30));

        // The same message again, as a producer's retry or a replay would bring it.
        var original = KafkaLog.ReadAll(system.Kafka.BootstrapServers, CouponTopics.Requests).Single(m => Read(m).RequestId == accepted[1]);
        using (var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = system.Kafka.BootstrapServers }).Build())
        {
            await producer.ProduceAsync(
                original.TopicPartition, new Message<string, byte[]> { Key = original.Message.Key, Value = original.Message.Value, Headers = original.Message.Headers }, TestContext.Current.CancellationToken);
        }

        List<ConsumeResult<string, byte[]>> decisions = [];
        await Eventually.UntilAsync(
            () => (decisions = KafkaLog.ReadAll(system.Kafka.BootstrapServers, CouponTopics.Decisions)).Count == 3, "the redelivered request's decision", TimeSpan.FromSeconds(30));
        var again = decisions.Where(m => CouponDecidedCodec.TryDecode(m.Message.Key, m.Message.Value, out var d, out _) && d.RequestId == accepted[1]).ToList();
        again.Count.ShouldBe(2);
        again[1].Message.Value.ShouldBe(again[0].Message.Value, "the stored outcome, byte for byte");
        Encoding.UTF8.GetString(again[1].Message.Value).ShouldContain("\"reason\":\"SoldOut\"");
        (await system.Database.ScalarAsync<long>("SELECT count(*) FROM request_outcomes")).ShouldBe(2, "decided once");
    }

    [Fact(Timeout = Timeouts.System)]
    public async Task A_dead_lettered_message_publishes_no_decision()
    {
        await using var system = await CouponSystem.StartAsync(postgres, partitions: 1, consumers: 1);
        var policy = await system.CreatePolicyAsync(totalQuantity: 5);
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = system.Kafka.BootstrapServers }).Build())
        {
            await producer.ProduceAsync(CouponTopics.Requests, new Message<string, string> { Key = policy.ToString(), Value = "not json" }, TestContext.Current.CancellationToken);
        }

        var after = (await system.RequestAsync(policy, userId: 7))!;
        await system.WaitUntilDecidedAsync([after]);
        await Eventually.UntilAsync(
            () => KafkaLog.End(system.Kafka.BootstrapServers, CouponTopics.DeadLetters, 0) == 1 && KafkaLog.End(system.Kafka.BootstrapServers, CouponTopics.Decisions, 0) >= 1,
            "the dead letter and the decision after it",
            TimeSpan.FromSeconds(30));

        var decision = KafkaLog.ReadAll(system.Kafka.BootstrapServers, CouponTopics.Decisions).ShouldHaveSingleItem();
        CouponDecidedCodec.TryDecode(decision.Message.Key, decision.Message.Value, out var decided, out _).ShouldBeTrue();
        decided.RequestId.ShouldBe(after);
    }

    private static CouponRequested Read(ConsumeResult<string, byte[]> message) =>
        CouponRequestedCodec.TryDecode(message.Message.Key, message.Message.Value, out var request, out var error) ? request : throw new InvalidOperationException(error);

    private static string TraceId(Headers headers) => Encoding.UTF8.GetString(headers.GetLastBytes("traceparent")).Split('-')[1];
}
