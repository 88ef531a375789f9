namespace CouponAspire.Data;

/// <summary>A coupon held by a user: at most one per (policy, user), enforced by a unique index.</summary>
public sealed class Coupon
{
    public long Id { get; set; }
    public long PolicyId { get; set; }
    public long UserId { get; set; }

    /// <summary>The request that won it.</summary>
    public string RequestId { get; set; } = "";

    public DateTimeOffset IssuedAt { get; set; }
}
