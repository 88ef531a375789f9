namespace CouponAspire.Issuance.Data;

/// <summary>
/// The API's receipt for a request the broker acknowledged (written after the acknowledgement, before the 202),
/// so that the request reads as Pending until its <see cref="RequestOutcome"/> exists.
/// </summary>
public sealed class AcceptedRequest
{
    public Guid RequestId { get; set; }
    public long PolicyId { get; set; }
    public long UserId { get; set; }
    public int KafkaPartition { get; set; }

    /// <summary>Null when the producer knew the message written but not where (a retry the broker had already taken).</summary>
    public long? KafkaOffset { get; set; }
    public DateTimeOffset RequestedAt { get; set; }
    public DateTimeOffset AcceptedAt { get; set; }
}
