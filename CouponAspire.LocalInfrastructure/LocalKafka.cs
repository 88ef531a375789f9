using System.Globalization;
using CouponAspire.Contracts.Events;

namespace CouponAspire.LocalInfrastructure;

/// <summary>
/// Kafka for a system without a broker — the tests, the benchmarks and the AppHost without containers: librdkafka's
/// mock cluster with the product's topics (it has no admin API for the services to create them with), and the consumer
/// settings a group needs on it.
/// </summary>
public static class LocalKafka
{
    public static readonly string[] Topics = [CouponTopics.Requests, CouponTopics.Decisions, CouponTopics.DeadLetters];

    /// <summary>
    /// A mock cluster with <c>coupon-events</c> and <c>coupon-decisions</c> of <paramref name="partitions"/> partitions
    /// each, and the dead-letter topic. A
    /// new consumer group rebalances after <paramref name="initialRebalanceDelay"/>, as a broker's
    /// <c>group.initial.rebalance.delay.ms</c>: consumers that start together form the group in one generation.
    /// </summary>
    public static MockKafkaCluster Start(int partitions, int brokers = 3, TimeSpan? initialRebalanceDelay = null)
    {
        var cluster = MockKafkaCluster.Start(brokers, initialRebalanceDelay);
        try
        {
            cluster.CreateTopic(CouponTopics.Requests, partitions);
            cluster.CreateTopic(CouponTopics.Decisions, partitions);
            cluster.CreateTopic(CouponTopics.DeadLetters, 1);
            return cluster;
        }
        catch
        {
            cluster.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Consumer settings, as configuration keys of the services, that a group needs on the mock, which is not quite a
    /// broker: it holds a rebalance open for up to a session timeout (so sessions are kept short, and the eager
    /// round-robin assignor settles a group in one rebalance where cooperative-sticky needs two; members starting
    /// together may still go through a few generations, so a member says it is ready once its assignment has stood a few
    /// seconds), and its Fetch always waits <c>fetch.wait.max.ms</c> even when data is there (a real broker answers at
    /// once), so that wait is kept short.
    /// </summary>
    public static IReadOnlyDictionary<string, string?> ConsumerSettings(int fetchWaitMaxMs = 10) => new Dictionary<string, string?>
    {
        ["Aspire:Confluent:Kafka:Consumer:Config:SessionTimeoutMs"] = "6000",
        ["Aspire:Confluent:Kafka:Consumer:Config:HeartbeatIntervalMs"] = "500",
        ["Aspire:Confluent:Kafka:Consumer:Config:FetchWaitMaxMs"] = fetchWaitMaxMs.ToString(CultureInfo.InvariantCulture),
        ["Aspire:Confluent:Kafka:Consumer:Config:PartitionAssignmentStrategy"] = "RoundRobin",
        ["CouponConsumer:StableAfter"] = "00:00:03",
    };
}
