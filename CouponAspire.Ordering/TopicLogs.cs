using Confluent.Kafka;
using CouponAspire.Contracts.Events;
using CouponAspire.Kafka;

namespace CouponAspire.Ordering;

/// <summary>A request as <c>coupon-events</c> holds it: where, and what it says.</summary>
public sealed record LoggedRequest(string RequestId, long PolicyId, long UserId, DateTimeOffset RequestedAt, int Partition, long Offset);

/// <summary>A decision as <c>coupon-decisions</c> holds it: where, and what it says.</summary>
public sealed record LoggedDecision(CouponDecided Decision, int Partition, long Offset);

/// <summary>
/// What a read of a topic found: its messages that decoded, in partition order, how many did not, and per partition
/// where the read began (the offset asked for, or later when the log no longer holds it) and where the log began.
/// </summary>
public sealed record LogRead<T>(IReadOnlyList<T> Messages, IReadOnlyDictionary<int, PartitionRange> Partitions, int Undecodable)
{
    /// <summary>The first offset the log still holds of a partition, when it no longer holds all that was asked for.</summary>
    public long? UnseenBefore(int partition) =>
        Partitions.TryGetValue(partition, out var range) && range.Asked < range.LogStart ? range.LogStart : null;
}

/// <param name="Asked">The offset the read was asked to start at.</param>
/// <param name="LogStart">The first offset the log held (older ones were evicted by retention).</param>
/// <param name="End">The offset after the last one read.</param>
public sealed record PartitionRange(long Asked, long LogStart, long End);

/// <summary>
/// Reads the product's topics over the Kafka protocol, the way any subscriber could: without a consumer group (no
/// offsets committed, no rebalance), partition by partition, from given offsets to where each partition ends now.
/// </summary>
public static class TopicLogs
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>Where each partition of a topic ends now: the offsets the next messages will get (the start of a sale's reading).</summary>
    public static Dictionary<int, long> Ends(string kafka, string topic = CouponTopics.Requests)
    {
        using var consumer = Reader(kafka);
        return Partitions(kafka, topic).ToDictionary(p => p.Partition.Value, p => consumer.QueryWatermarkOffsets(p, Timeout).High.Value);
    }

    /// <summary><c>coupon-events</c>, decoded.</summary>
    /// <param name="from">Per partition, the offset to start at; partitions not named are read from the start of the log.</param>
    public static LogRead<LoggedRequest> ReadRequests(string kafka, IReadOnlyDictionary<int, long>? from = null, CancellationToken cancellationToken = default) =>
        Read(kafka, CouponTopics.Requests, from, cancellationToken, static message =>
            CouponRequestedCodec.TryDecode(Key(message), message.Message.Value ?? [], out var request, out _)
                ? new LoggedRequest(request.RequestId, request.PolicyId, request.UserId, request.RequestedAt, message.Partition.Value, message.Offset.Value)
                : null);

    /// <summary><c>coupon-decisions</c>, decoded.</summary>
    public static LogRead<LoggedDecision> ReadDecisions(string kafka, IReadOnlyDictionary<int, long>? from = null, CancellationToken cancellationToken = default) =>
        Read(kafka, CouponTopics.Decisions, from, cancellationToken, static message =>
            CouponDecidedCodec.TryDecode(Key(message), message.Message.Value ?? [], out var decision, out _)
                ? new LoggedDecision(decision, message.Partition.Value, message.Offset.Value)
                : null);

    private static LogRead<T> Read<T>(
        string kafka, string topic, IReadOnlyDictionary<int, long>? from, CancellationToken cancellationToken, Func<ConsumeResult<byte[]?, byte[]?>, T?> decode)
        where T : class
    {
        using var consumer = Reader(kafka);
        var ranges = new Dictionary<int, PartitionRange>();
        foreach (var partition in Partitions(kafka, topic))
        {
            var watermarks = consumer.QueryWatermarkOffsets(partition, Timeout);
            var asked = from?.GetValueOrDefault(partition.Partition.Value, 0) ?? 0;
            ranges[partition.Partition.Value] = new PartitionRange(asked, watermarks.Low.Value, watermarks.High.Value);
        }

        var positions = ranges
            .Where(r => Math.Max(r.Value.Asked, r.Value.LogStart) < r.Value.End)
            .ToDictionary(r => r.Key, r => Math.Max(r.Value.Asked, r.Value.LogStart));
        consumer.Assign(positions.Select(p => new TopicPartitionOffset(topic, p.Key, p.Value)));

        var messages = new List<(int Partition, long Offset, T Message)>();
        var undecodable = 0;
        while (positions.Count > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var message = consumer.Consume(Timeout) ?? throw new TimeoutException(
                $"{topic} stopped answering with partition(s) {string.Join(", ", positions.Keys)} not read to their end.");
            var partition = message.Partition.Value;
            if (!positions.ContainsKey(partition) || message.Offset.Value >= ranges[partition].End)
            {
                continue;
            }

            if (decode(message) is { } decoded)
            {
                messages.Add((partition, message.Offset.Value, decoded));
            }
            else
            {
                undecodable++;
            }

            if (message.Offset.Value + 1 >= ranges[partition].End)
            {
                positions.Remove(partition);
            }
        }

        return new LogRead<T>([.. messages.OrderBy(m => m.Partition).ThenBy(m => m.Offset).Select(m => m.Message)], ranges, undecodable);
    }

    private static string? Key(ConsumeResult<byte[]?, byte[]?> message) =>
        message.Message.Key is { } key ? System.Text.Encoding.UTF8.GetString(key) : null;

    private static IConsumer<byte[]?, byte[]?> Reader(string kafka) => new ConsumerBuilder<byte[]?, byte[]?>(KafkaConnectionString.Apply(kafka, new ConsumerConfig
    {
        // Assigned partitions, no subscription: the group id is never used to join or commit.
        GroupId = "coupon-topics-reader",
        EnableAutoCommit = false,
        EnableAutoOffsetStore = false,
        AllowAutoCreateTopics = false,
        // Retention may evict what is being read: go on from where the log now starts.
        AutoOffsetReset = AutoOffsetReset.Earliest,
    }))
        .SetLogHandler((_, _) => { })
        .Build();

    private static List<TopicPartition> Partitions(string kafka, string topic)
    {
        using var admin = new AdminClientBuilder(KafkaConnectionString.Apply(kafka, new AdminClientConfig())).SetLogHandler((_, _) => { }).Build();
        var metadata = admin.GetMetadata(topic, Timeout).Topics.Single();
        if (metadata.Error.IsError)
        {
            throw new KafkaException(metadata.Error);
        }

        return [.. metadata.Partitions.Select(p => new TopicPartition(topic, p.PartitionId)).OrderBy(p => p.Partition.Value)];
    }
}
