namespace CouponAspire.Kafka;

/// <summary>How a service creates the topics it needs when they are missing (<see cref="KafkaTopicProvisioner"/>).</summary>
public sealed class KafkaTopicOptions
{
    /// <summary>
    /// Partitions of each topic created (default 12), unless the first topic of the list exists already: then its count,
    /// so that topics provisioned together are partitioned alike. Changing the count of an existing topic moves keys
    /// between partitions, so it is never done here.
    /// </summary>
    public int Partitions { get; set; } = 12;

    /// <summary>Replication factor for created topics; -1 (default) takes the broker's <c>default.replication.factor</c>.</summary>
    public short ReplicationFactor { get; set; } = -1;

    /// <summary>How long startup waits for the broker to answer (default 15 s); then the service starts anyway.</summary>
    public TimeSpan ProvisioningTimeout { get; set; } = TimeSpan.FromSeconds(15);
}
