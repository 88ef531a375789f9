namespace CouponAspire.Contracts.Events;

/// <summary>
/// Published to <see cref="CouponTopics.Decisions"/> for every decision, once its transaction has committed, keyed by
/// the policy id: one policy's decisions are on one partition, in the order of its requests on
/// <see cref="CouponTopics.Requests"/>. At least once: a redelivered request publishes its stored outcome again, unchanged,
/// so subscribers dedupe by <see cref="RequestId"/>. A public contract like <see cref="CouponRequested"/>: fields are only
/// ever added, and a breaking change gets a new <see cref="Version"/>.
/// </summary>
/// <param name="RequestId">The request decided (the id the client got).</param>
/// <param name="Status"><see cref="RequestStatuses.Issued"/> or <see cref="RequestStatuses.Rejected"/>.</param>
/// <param name="Reason">Null when issued, else why not: an <see cref="IssuanceOutcome"/> name (<c>SoldOut</c>, <c>AlreadyIssued</c>, …).</param>
/// <param name="CouponId">The coupon issued, or for <c>AlreadyIssued</c> the one the user already holds.</param>
/// <param name="RequestedAt">When the API accepted the request.</param>
/// <param name="DecidedAt">When the decision was committed.</param>
/// <param name="RemainingQuantity">The policy's quantity left after this decision; null when the policy does not exist.</param>
/// <param name="Version">The format version, <see cref="CurrentVersion"/> when written by this code.</param>
public sealed record CouponDecided(
    string RequestId,
    long PolicyId,
    long UserId,
    string Status,
    string? Reason,
    long? CouponId,
    DateTimeOffset RequestedAt,
    DateTimeOffset DecidedAt,
    int? RemainingQuantity,
    int Version = CouponDecided.CurrentVersion)
{
    public const int CurrentVersion = 1;

    /// <summary>The outcome this decision records.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public IssuanceOutcome Outcome => Reason is null ? IssuanceOutcome.Issued : Enum.Parse<IssuanceOutcome>(Reason);

    public static CouponDecided Of(
        string requestId, long policyId, long userId, IssuanceOutcome outcome, long? couponId, DateTimeOffset requestedAt, DateTimeOffset decidedAt, int? remainingQuantity) =>
        new(requestId, policyId, userId, RequestStatuses.Of(outcome), RequestStatuses.ReasonOf(outcome), couponId, requestedAt, decidedAt, remainingQuantity);
}
