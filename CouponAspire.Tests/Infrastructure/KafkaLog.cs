using Confluent.Kafka;

namespace CouponAspire.Tests.Infrastructure;

/// <summary>Reads a topic back from the broker, partition by partition, from the first offset to the current end.</summary>
public static class KafkaLog
{
    /// <summary>The offset after the last message of a partition.</summary>
    public static long End(string bootstrapServers, string topic, int partition)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = bootstrapServers, GroupId = "watermarks" }).Build();
        return consumer.QueryWatermarkOffsets(new TopicPartition(topic, partition), TimeSpan.FromSeconds(5)).High.Value;
    }

    public static List<ConsumeResult<string, byte[]>> ReadAll(string bootstrapServers, string topic)
    {
        using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = $"log-reader-{Guid.NewGuid():N}",
            EnableAutoCommit = false,
        }).Build();

        var metadata = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrapServers }).Build();
        var partitions = metadata.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions
            .Select(p => new TopicPartition(topic, p.PartitionId)).ToList();
        metadata.Dispose();

        var watermarks = partitions.ToDictionary(p => p, p => consumer.QueryWatermarkOffsets(p, TimeSpan.FromSeconds(10)));
        MockClusterRetention.AssertWhole(topic, watermarks.ToDictionary(w => w.Key.Partition.Value, w => w.Value.Low.Value));
        var ends = watermarks.ToDictionary(w => w.Key, w => w.Value.High.Value);
        consumer.Assign(partitions.Where(p => ends[p] > 0).Select(p => new TopicPartitionOffset(p, Offset.Beginning)));
        var remaining = ends.Values.Sum();
        var messages = new List<ConsumeResult<string, byte[]>>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (remaining > 0 && DateTime.UtcNow < deadline)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { } message && message.Offset.Value < ends[message.TopicPartition])
            {
                messages.Add(message);
                remaining--;
            }
        }

        remaining.ShouldBe(0, $"{remaining} message(s) of {topic} could not be read back");
        return messages.OrderBy(m => m.Partition.Value).ThenBy(m => m.Offset.Value).ToList();
    }
}
