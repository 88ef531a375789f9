using Confluent.Kafka;
using CouponAspire.Contracts.Events;
using CouponAspire.Kafka;

namespace CouponAspire.Ordering;

/// <summary>A request as <c>coupon-events</c> holds it: where, and what it says.</summary>
public sealed record LoggedRequest(string RequestId, long PolicyId, long UserId, DateTimeOffset RequestedAt, int Partition, long Offset);

/// <summary>
/// What a read of <c>coupon-events</c> found: the requests in partition order, and per partition where the read began
/// (the offset asked for, or later when the log no longer holds it) and where the log began.
/// </summary>
public sealed record LogRead(IReadOnlyList<LoggedRequest> Requests, IReadOnlyDictionary<int, PartitionRange> Partitions, int Undecodable)
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
/// Reads <c>coupon-events</c> over the Kafka protocol, the way any subscriber could: without a consumer group (no
/// offsets committed, no rebalance), partition by partition, from given offsets to where each partition ends now.
/// </summary>
public static class CouponEventsLog
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>Where each partition ends now: the offsets the next requests will get (the start of a sale's reading).</summary>
    public static Dictionary<int, long> Ends(string kafka)
    {
        using var consumer = Reader(kafka);
        return Partitions(kafka).ToDictionary(p => p.Partition.Value, p => consumer.QueryWatermarkOffsets(p, Timeout).High.Value);
    }

    /// <param name="kafka">The Kafka connection string (bootstrap servers).</param>
    /// <param name="from">Per partition, the offset to start at; partitions not named are read from the start of the log.</param>
    public static LogRead Read(string kafka, IReadOnlyDictionary<int, long>? from = null, CancellationToken cancellationToken = default)
    {
        using var consumer = Reader(kafka);
        var ranges = new Dictionary<int, PartitionRange>();
        foreach (var partition in Partitions(kafka))
        {
            var watermarks = consumer.QueryWatermarkOffsets(partition, Timeout);
            var asked = from?.GetValueOrDefault(partition.Partition.Value, 0) ?? 0;
            ranges[partition.Partition.Value] = new PartitionRange(asked, watermarks.Low.Value, watermarks.High.Value);
        }

        var positions = ranges
            .Where(r => Math.Max(r.Value.Asked, r.Value.LogStart) < r.Value.End)
            .ToDictionary(r => r.Key, r => Math.Max(r.Value.Asked, r.Value.LogStart));
        consumer.Assign(positions.Select(p => new TopicPartitionOffset(CouponTopics.Requests, p.Key, p.Value)));

        var requests = new List<LoggedRequest>();
        var undecodable = 0;
        while (positions.Count > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var message = consumer.Consume(Timeout) ?? throw new TimeoutException(
                $"coupon-events stopped answering with partition(s) {string.Join(", ", positions.Keys)} not read to their end.");
            var partition = message.Partition.Value;
            if (!positions.ContainsKey(partition) || message.Offset.Value >= ranges[partition].End)
            {
                continue;
            }

            if (CouponRequestedCodec.TryDecode(message.Message.Key, message.Message.Value ?? [], out var request, out _))
            {
                requests.Add(new LoggedRequest(request.RequestId, request.PolicyId, request.UserId, request.RequestedAt, partition, message.Offset.Value));
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

        requests.Sort((a, b) => a.Partition != b.Partition ? a.Partition.CompareTo(b.Partition) : a.Offset.CompareTo(b.Offset));
        return new LogRead(requests, ranges, undecodable);
    }

    private static IConsumer<string, byte[]> Reader(string kafka) => new ConsumerBuilder<string, byte[]>(KafkaConnectionString.Apply(kafka, new ConsumerConfig
    {
        // Assigned partitions, no subscription: the group id is never used to join or commit.
        GroupId = "coupon-events-reader",
        EnableAutoCommit = false,
        EnableAutoOffsetStore = false,
        AllowAutoCreateTopics = false,
        // Retention may evict what is being read: go on from where the log now starts.
        AutoOffsetReset = AutoOffsetReset.Earliest,
    }))
        .SetLogHandler((_, _) => { })
        .Build();

    private static List<TopicPartition> Partitions(string kafka)
    {
        using var admin = new AdminClientBuilder(KafkaConnectionString.Apply(kafka, new AdminClientConfig())).SetLogHandler((_, _) => { }).Build();
        var topic = admin.GetMetadata(CouponTopics.Requests, Timeout).Topics.Single();
        if (topic.Error.IsError)
        {
            throw new KafkaException(topic.Error);
        }

        return [.. topic.Partitions.Select(p => new TopicPartition(CouponTopics.Requests, p.PartitionId)).OrderBy(p => p.Partition.Value)];
    }
}
