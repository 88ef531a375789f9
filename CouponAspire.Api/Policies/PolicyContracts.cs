
namespace CouponAspire.Api.Policies;

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
    DateTimeOffset CreatedAt)
{
    public static PolicyResponse Of(CouponPolicy policy)
    {
        var snapshot = policy.Snapshot();
        return new(policy.Id, policy.Name, policy.TotalQuantity, policy.IssuedCount, snapshot.RemainingQuantity, snapshot.SoldOut, policy.StartsAt, policy.EndsAt, policy.CreatedAt);
    }
}

/// <summary>
/// An event of a policy's stream (<c>GET /api/coupon-policies/{policyId}/events</c>): how many of its coupons are left
/// (<c>remaining</c>), and at the end, none (<c>soldOut</c>).
/// </summary>
public sealed record PolicyRemaining(long PolicyId, int TotalQuantity, int RemainingQuantity, bool SoldOut);
