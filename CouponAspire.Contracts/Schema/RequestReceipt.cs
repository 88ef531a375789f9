namespace CouponAspire.Contracts.Schema;

/// <summary>
/// The API's receipt of a request it is publishing: written while the publish is in flight, so that once the broker
/// acknowledges the request it reads as Pending until its <see cref="RequestOutcome"/> exists. A publish that fails
/// voids its receipt with a <see cref="IssuanceOutcome.Withdrawn"/> outcome; the request id is disclosed to the
/// client only with the 202.
/// </summary>
public sealed class RequestReceipt
{
    public Guid RequestId { get; set; }
    public long PolicyId { get; set; }
    public long UserId { get; set; }
    public DateTimeOffset RequestedAt { get; set; }
}
