using Confluent.Kafka;
using CouponAspire.Contracts.Events;
using CouponAspire.LocalInfrastructure;

namespace CouponAspire.Tests.Faults;

/// <summary>
/// Kafka misbehaving in the middle of a flash sale, through the mock cluster's fault injection. Whatever happens, the
/// API answers in bounded time (202 only once the broker acknowledged, else 503), the idempotent producer writes each
/// request once, and every accepted request is decided exactly once, first come first served.
/// </summary>
public sealed class KafkaFaultTests(PostgresFixture postgres)
{
    private static readonly TimeSpan FaultDuration = TimeSpan.FromSeconds(4);

    [Theory]
    [InlineData("brokers down and back")]
    [InlineData("partition leaders move")]
    [InlineData("produce requests fail")]
    [InlineData("brokers slow down")]
    public async Task A_sale_through_a_kafka_fault_loses_nothing_and_writes_nothing_twice(string fault)
    {
        await using var system = await CouponSystem.StartAsync(postgres, partitions: 6, consumers: 2, settings: new Dictionary<string, string?>
        {
            // A publish the broker cannot take within 2 s is answered 503.
            ["Aspire:Confluent:Kafka:Producer:Config:MessageTimeoutMs"] = "2000",
            // librdkafka's mock does not check an idempotent producer's sequence numbers, so with several requests in
            // flight it would accept a batch past a failed one (a real broker answers OUT_OF_ORDER_SEQUENCE_NUMBER),
            // and the client would then count the failed one as delivered. One request in flight keeps the mock honest.
            ["Aspire:Confluent:Kafka:Producer:Config:MaxInFlight"] = "1",
        });
        long[] policies = [await system.CreatePolicyAsync(200), await system.CreatePolicyAsync(50), await system.CreatePolicyAsync(500)];

        var sale = FlashSale.RunAsync(system, policies, count: 4000, users: 1500, concurrency: 16, seed: 11, cancellationToken: TestContext.Current.CancellationToken);
        await Task.Delay(600, TestContext.Current.CancellationToken);
        Inject(system, fault);
        await Task.Delay(FaultDuration, TestContext.Current.CancellationToken);
        Heal(system.Kafka, fault);
        var result = await sale;

        TestContext.Current.TestOutputHelper?.WriteLine($"{fault}: accepted {result.Accepted.Count}, other answers {string.Join(", ", result.Others.Select(o => $"{(int)o.Key}×{o.Value}"))}");
        if (fault == "brokers down and back")
        {
            result.Others.GetValueOrDefault(HttpStatusCode.ServiceUnavailable).ShouldBeGreaterThan(0, "with every broker down the API answers 503 instead of hanging");
        }

        await Invariants.AssertAllHoldAsync(system, result.Accepted, TimeSpan.FromSeconds(120));
    }

    private static void Inject(CouponSystem system, string fault)
    {
        var kafka = system.Kafka;
        switch (fault)
        {
            case "brokers down and back":
                kafka.SetBrokerDown(-1);
                break;
            case "partition leaders move":
                for (var partition = 0; partition < system.Partitions; partition++)
                {
                    kafka.SetPartitionLeader(CouponTopics.Requests, partition, partition % 3 + 1);
                }

                break;
            case "produce requests fail":
                // "Not written" and "maybe written" errors alike; the producer retries both, idempotently.
                kafka.PushRequestErrors(
                    KafkaApiKey.Produce,
                    Enumerable.Repeat(new[] { ErrorCode.NotLeaderForPartition, ErrorCode.RequestTimedOut, ErrorCode.NotEnoughReplicas, ErrorCode.NotEnoughReplicasAfterAppend }, 10)
                        .SelectMany(e => e).ToArray());
                break;
            case "brokers slow down":
                kafka.SetBrokerRoundTripTime(-1, TimeSpan.FromMilliseconds(300));
                break;
        }
    }

    private static void Heal(MockKafkaCluster kafka, string fault)
    {
        switch (fault)
        {
            case "brokers down and back":
                kafka.SetBrokerUp(-1);
                break;
            case "brokers slow down":
                kafka.SetBrokerRoundTripTime(-1, TimeSpan.Zero);
                break;
        }
    }
}
