using CouponAspire.Api.Decisions;

namespace CouponAspire.Api.Requests;

/// <summary>The body of <c>POST /api/coupon-policies/{policyId}/requests</c>.</summary>
public sealed record IssueCouponRequest(long? UserId);

/// <summary>The answer to an accepted request: where its outcome will be, and that it is not decided yet.</summary>
public sealed record CouponRequestAccepted(string RequestId, string Status);

/// <summary>
/// A request's state: <c>Pending</c> until decided, then <c>Issued</c> (with the coupon) or <c>Rejected</c> with a
/// reason (<c>SoldOut</c>, <c>AlreadyIssued</c>, <c>PolicyNotFound</c>, <c>PolicyNotOpen</c>). <c>couponId</c> is the
/// coupon issued, or for <c>AlreadyIssued</c> the one the user already holds. <c>requestedAt</c> is when the API
/// received it, <c>decidedAt</c> when its outcome was committed (null while pending).
/// </summary>
public sealed record CouponRequestStatus(
    string RequestId,
    long PolicyId,
    long UserId,
    string Status,
    string? Reason,
    long? CouponId,
    DateTimeOffset RequestedAt,
    DateTimeOffset? DecidedAt)
{
    public static CouponRequestStatus Pending(SignedRequest request) =>
        new(request.RequestId, request.PolicyId, request.UserId, RequestStatuses.Pending, null, null, request.RequestedAt, null);

    internal static CouponRequestStatus Decided(KnownDecision decision) => new(
        decision.RequestId,
        decision.PolicyId,
        decision.UserId,
        RequestStatuses.Of(decision.Outcome),
        RequestStatuses.ReasonOf(decision.Outcome),
        decision.CouponId,
        decision.RequestedAt,
        decision.DecidedAt);
}
