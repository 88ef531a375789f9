using System.Text.Json;
using System.Text.Json.Serialization;
using CouponAspire.Issuance.Engine;

namespace CouponAspire.Api.Apis;

/// <summary>The body of <c>POST /api/coupon-policies</c>.</summary>
public sealed record CreatePolicyRequest(string? Name, int? TotalQuantity, DateTimeOffset? StartsAt, DateTimeOffset? EndsAt);

/// <summary>A coupon policy with its issuance so far.</summary>
public sealed record PolicyResponse(
    long Id,
    string Name,
    int TotalQuantity,
    int IssuedCount,
    int RemainingQuantity,
    bool SoldOut,
    DateTimeOffset? StartsAt,
    DateTimeOffset? EndsAt,
    DateTimeOffset CreatedAt);

/// <summary>The body of <c>POST /api/coupon-policies/{policyId}/requests</c>.</summary>
public sealed record IssueCouponRequest(long? UserId);

/// <summary>The answer to an accepted request: where its outcome will be, and that it is not decided yet.</summary>
public sealed record CouponRequestAccepted(Guid RequestId, string Status);

/// <summary>
/// A request's state: <c>Pending</c> until decided, then <c>Issued</c> (with the coupon) or <c>Rejected</c> with a
/// reason (<c>SoldOut</c>, <c>AlreadyIssued</c>, <c>PolicyNotFound</c>, <c>PolicyNotOpen</c>). <c>couponId</c> is the
/// coupon issued, or for <c>AlreadyIssued</c> the one the user already holds. <c>requestedAt</c> is when the API
/// received it, <c>decidedAt</c> when its outcome was committed (null while pending).
/// </summary>
public sealed record CouponRequestStatus(
    Guid RequestId,
    long PolicyId,
    long UserId,
    string Status,
    string? Reason,
    long? CouponId,
    DateTimeOffset RequestedAt,
    DateTimeOffset? DecidedAt);

/// <summary>A coupon a user holds.</summary>
public sealed record UserCoupon(long CouponId, long PolicyId, string PolicyName, long UserId, Guid RequestId, DateTimeOffset IssuedAt);

public static class RequestStatuses
{
    public const string Pending = "Pending";
    public const string Issued = "Issued";
    public const string Rejected = "Rejected";

    /// <summary>The status of a decided request.</summary>
    public static string Of(IssuanceOutcome outcome) => outcome == IssuanceOutcome.Issued ? Issued : Rejected;
}

/// <summary>Serialization code for the contract, generated at build time rather than reflected on per type at run time.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(CreatePolicyRequest))]
[JsonSerializable(typeof(PolicyResponse))]
[JsonSerializable(typeof(IssueCouponRequest))]
[JsonSerializable(typeof(CouponRequestAccepted))]
[JsonSerializable(typeof(CouponRequestStatus))]
[JsonSerializable(typeof(UserCoupon[]))]
internal sealed partial class ApiJsonContext : JsonSerializerContext;
