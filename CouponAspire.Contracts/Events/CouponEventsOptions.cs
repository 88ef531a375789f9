namespace CouponAspire.Contracts.Events;

/// <summary>Options of the <c>CouponEvents</c> configuration section: how <see cref="CouponTopics.Requests"/> is created.</summary>
public sealed class CouponEventsOptions
{
    public const string SectionName = "CouponEvents";

    /// <summary>
    /// Partitions of <c>coupon-events</c> when this service creates it (default 12). One policy's requests always
    /// share a partition; more partitions let more consumers decide different policies in parallel. Changing the count
    /// of an existing topic moves keys between partitions, so it is never done here.
    /// </summary>
    public int Partitions { get; set; } = 12;

    /// <summary>Replication factor for created topics; -1 (default) takes the broker's <c>default.replication.factor</c>.</summary>
    public short ReplicationFactor { get; set; } = -1;

    /// <summary>How long startup waits for the broker to answer (default 15 s); then the service starts anyway.</summary>
    public TimeSpan ProvisioningTimeout { get; set; } = TimeSpan.FromSeconds(15);
}
