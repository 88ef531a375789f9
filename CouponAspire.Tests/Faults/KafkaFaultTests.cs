using System.Diagnostics.Metrics;
using Confluent.Kafka;
using CouponAspire.Contracts.Events;
using CouponAspire.LocalInfrastructure;
using CouponAspire.ServiceDefaults;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace CouponAspire.Tests.Faults;

/// <summary>
/// Kafka misbehaving in the middle of a flash sale, through the mock cluster's fault injection. Whatever happens, the
/// API answers in bounded time (202 only once the broker acknowledged, else 503), the idempotent producer writes each
/// request once, and every accepted request is decided exactly once, first come first served. Each test proves that
/// its fault met requests being published, from the requests the brokers received (or the answers the API gave).
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class KafkaFaultTests(PostgresFixture postgres)
{
    [Fact(Timeout = Timeouts.Fault)]
    public async Task All_brokers_down_while_requests_are_published_gives_503s_then_loses_nothing_and_writes_nothing_twice()
    {
        await using var system = await StartAsync();
        var drill = new FaultDrill(system, await PoliciesAsync(system, 200, 50, 5000), users: 1500);
        var unavailableBefore = 0;

        var result = await drill.RunAsync(
            injectWhen: PublishingAsync(),
            inject: _ =>
            {
                unavailableBefore = drill.Sale.Unavailable;
                system.Kafka.SetBrokerDown(-1);
                return Task.CompletedTask;
            },
            struck: "a request answered 503 while every broker was down",
            hasStruck: () => Task.FromResult(drill.Sale.Unavailable > unavailableBefore),
            heal: () =>
            {
                system.Kafka.SetBrokerUp(-1);
                return Task.CompletedTask;
            });

        result.Sale.Others[HttpStatusCode.ServiceUnavailable].ShouldBeGreaterThan(0, "with every broker down the API answers 503 instead of hanging");
    }

    [Fact(Timeout = Timeouts.Fault)]
    public async Task A_partition_leader_moving_while_its_requests_are_published_loses_nothing_and_writes_nothing_twice()
    {
        await using var system = await StartAsync();
        long[] policies = [await system.CreatePolicyAsync(5000)];
        var drill = new FaultDrill(system, policies, users: 3000);
        var (partition, oldLeader, newLeader) = (0, 0, 0);
        var mark = 0;

        await drill.RunAsync(
            injectWhen: PublishingAsync(),
            inject: async _ =>
            {
                partition = await system.Database.ScalarAsync<int>("SELECT kafka_partition FROM request_outcomes WHERE policy_id = $1 LIMIT 1", policies[0]);
                oldLeader = LeaderOf(system, partition);
                newLeader = oldLeader % 3 + 1;
                mark = system.Kafka.Requests().Count;
                system.Kafka.SetPartitionLeader(CouponTopics.Requests, partition, newLeader);
            },
            // Its metadata still names the old leader: the first produce after the move goes there, is refused as
            // "not the leader", and is retried at the new one.
            struck: "a produce request sent to the old leader after the move, and one to the new leader",
            hasStruck: () => Task.FromResult(ProducesSince(system, mark, oldLeader) > 0 && ProducesSince(system, mark, newLeader) > 0));

        LeaderOf(system, partition).ShouldBe(newLeader);
    }

    [Fact(Timeout = Timeouts.Fault)]
    public async Task Produce_requests_failing_while_requests_are_published_are_retried_and_lose_nothing_and_write_nothing_twice()
    {
        // A retried publish waits this long before it is sent again, where one that is not retried takes milliseconds.
        // Retries only, no publish timing out meanwhile (timeouts are the brokers-down test's fault): after a timeout
        // the idempotent producer starts its sequence numbers again, which the mock does not check, and the mock has
        // been seen to acknowledge a request it did not keep.
        var backoff = TimeSpan.FromMilliseconds(300);
        await using var system = await StartAsync(new()
        {
            ["Aspire:Confluent:Kafka:Producer:Config:RetryBackoffMs"] = $"{backoff.TotalMilliseconds}",
            ["Aspire:Confluent:Kafka:Producer:Config:RetryBackoffMaxMs"] = $"{backoff.TotalMilliseconds}",
            ["Aspire:Confluent:Kafka:Producer:Config:MessageTimeoutMs"] = "60000",
        });
        var drill = new FaultDrill(system, await PoliciesAsync(system, 200, 50, 5000), users: 1500);
        using var publishes = PublishDurations(system);

        // "Not written" and "maybe written" errors alike; the producer retries both, idempotently.
        ErrorCode[] errors = [.. Enumerable.Repeat(new[] { ErrorCode.NotLeaderForPartition, ErrorCode.RequestTimedOut, ErrorCode.NotEnoughReplicas, ErrorCode.NotEnoughReplicasAfterAppend }, 10).SelectMany(e => e)];
        var mark = 0;
        var published = 0;

        await drill.RunAsync(
            injectWhen: PublishingAsync(),
            inject: _ =>
            {
                (mark, published) = (system.Kafka.Requests().Count, publishes.GetMeasurementSnapshot().Count);
                system.Kafka.PushRequestErrors(KafkaApiKey.Produce, errors);
                return Task.CompletedTask;
            },
            // The mock answers the next produce requests with the errors, one each, in order; the publishes they
            // carried are sent again after the backoff (10 of the sale's 16 in flight).
            struck: $"{errors.Length} produce requests answered with the errors, and 10 publishes retried",
            hasStruck: () => Task.FromResult(ProducesSince(system, mark) >= errors.Length && SlowPublishes(publishes, published, backoff) >= 10));
    }

    [Fact(Timeout = Timeouts.Fault)]
    public async Task Brokers_slowing_down_while_requests_are_published_lose_nothing_and_write_nothing_twice()
    {
        await using var system = await StartAsync();
        var drill = new FaultDrill(system, await PoliciesAsync(system, 200, 50, 5000), users: 1500);
        using var publishes = PublishDurations(system);
        var delay = TimeSpan.FromMilliseconds(300);
        var published = 0;

        await drill.RunAsync(
            injectWhen: PublishingAsync(),
            inject: _ =>
            {
                published = publishes.GetMeasurementSnapshot().Count;
                system.Kafka.SetBrokerRoundTripTime(-1, delay);
                return Task.CompletedTask;
            },
            struck: "20 publishes acknowledged by the slowed brokers",
            hasStruck: () => Task.FromResult(SlowPublishes(publishes, published, delay) >= 20),
            heal: () =>
            {
                system.Kafka.SetBrokerRoundTripTime(-1, TimeSpan.Zero);
                return Task.CompletedTask;
            });
    }

    private async Task<CouponSystem> StartAsync(Dictionary<string, string?>? settings = null)
    {
        var all = new Dictionary<string, string?>
        {
            // A publish the broker cannot take within 2 s is answered 503.
            ["Aspire:Confluent:Kafka:Producer:Config:MessageTimeoutMs"] = "2000",
            // librdkafka's mock does not check an idempotent producer's sequence numbers, so with several requests in
            // flight it would accept a batch past a failed one (a real broker answers OUT_OF_ORDER_SEQUENCE_NUMBER),
            // and the client would then count the failed one as delivered. One request in flight keeps the mock honest.
            ["Aspire:Confluent:Kafka:Producer:Config:MaxInFlight"] = "1",
        };
        foreach (var (key, value) in settings ?? [])
        {
            all[key] = value;
        }

        var system = await CouponSystem.StartAsync(postgres, partitions: 6, consumers: 2, settings: all);
        system.Kafka.StartRequestTracking();
        return system;
    }

    private static async Task<long[]> PoliciesAsync(CouponSystem system, params int[] quantities)
    {
        var policies = new long[quantities.Length];
        for (var i = 0; i < quantities.Length; i++)
        {
            policies[i] = await system.CreatePolicyAsync(quantities[i]);
        }

        return policies;
    }

    /// <summary>The fault goes in while requests are being published and some are decided already: 200 accepted.</summary>
    private static Func<FaultMoment, Task<bool>> PublishingAsync() => moment => Task.FromResult(moment.Accepted >= 200 && moment.Decided > 0);

    /// <summary>How long the API's publishes took, from the broker's acknowledgement back (its Kafka meter).</summary>
    private static MetricCollector<double> PublishDurations(CouponSystem system) =>
        new(system.ApiFactory.Services.GetRequiredService<IMeterFactory>(), CouponAspire.Kafka.KafkaTracing.Name, "messaging.client.operation.duration");

    private static int SlowPublishes(MetricCollector<double> durations, int mark, TimeSpan atLeast) =>
        durations.GetMeasurementSnapshot().Skip(mark).Count(m => m.Value >= atLeast.TotalSeconds);

    private static int ProducesSince(CouponSystem system, int mark, int? broker = null) =>
        system.Kafka.Requests().Skip(mark).Count(r => r.ApiKey == KafkaApiKey.Produce && (broker is null || r.BrokerId == broker));

    private static int LeaderOf(CouponSystem system, int partition)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = system.Kafka.BootstrapServers }).Build();
        return admin.GetMetadata(CouponTopics.Requests, TimeSpan.FromSeconds(10)).Topics.Single().Partitions.Single(p => p.PartitionId == partition).Leader;
    }
}
