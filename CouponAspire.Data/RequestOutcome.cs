
using CouponAspire.Contracts.Events;

namespace CouponAspire.Data;

/// <summary>
/// The one recorded outcome of a request id. Written once, by the issuance engine (or, for
/// <see cref="IssuanceOutcome.Withdrawn"/>, by the API); never updated, so a redelivered request gets it back unchanged.
/// </summary>
public sealed class RequestOutcome
{
    public string RequestId { get; set; } = "";
    public long PolicyId { get; set; }
    public long UserId { get; set; }
    public IssuanceOutcome Outcome { get; set; }

    /// <summary>The coupon issued by this request, or for <see cref="IssuanceOutcome.AlreadyIssued"/> the one the user already holds.</summary>
    public long? CouponId { get; set; }

    /// <summary>Where the request was read from; null only for a request withdrawn before it was read.</summary>
    public int? KafkaPartition { get; set; }

    public long? KafkaOffset { get; set; }
    public DateTimeOffset RequestedAt { get; set; }
    public DateTimeOffset DecidedAt { get; set; }

    /// <summary>
    /// The policy's quantity left after this decision, as published on <c>coupon-decisions</c> (a redelivered request
    /// publishes it again unchanged); null when the policy does not exist, and for a withdrawn request.
    /// </summary>
    public int? RemainingQuantity { get; set; }
}
