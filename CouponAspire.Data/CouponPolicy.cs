namespace CouponAspire.Data;

/// <summary>A flash sale: a fixed quantity of coupons, optionally only within an opening window.</summary>
public sealed class CouponPolicy
{
    public const int NameMaxLength = 200;

    public long Id { get; set; }
    public required string Name { get; set; }
    public int TotalQuantity { get; set; }

    /// <summary>Coupons issued so far; only the issuance engine changes it, and the database keeps it ≤ <see cref="TotalQuantity"/>.</summary>
    public int IssuedCount { get; set; }

    /// <summary>Requests made before this instant are not open (inclusive start).</summary>
    public DateTimeOffset? StartsAt { get; set; }

    /// <summary>Requests made at or after this instant are not open (exclusive end).</summary>
    public DateTimeOffset? EndsAt { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public PolicySnapshot Snapshot() => new(Id, TotalQuantity, IssuedCount, StartsAt, EndsAt);
}
