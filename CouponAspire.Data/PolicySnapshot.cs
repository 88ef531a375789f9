using System.Data.Common;

namespace CouponAspire.Data;

/// <summary>
/// What deciding a request needs to know of a policy — its quantity, what is issued, when it is open — as the API's
/// sold-out gate and the issuance engine read it from <c>coupon_policies</c>.
/// </summary>
public sealed record PolicySnapshot(long Id, int TotalQuantity, int IssuedCount, DateTimeOffset? StartsAt, DateTimeOffset? EndsAt)
{
    /// <summary>The columns <see cref="Read"/> expects, in its order.</summary>
    public const string Columns = "id, total_quantity, issued_count, starts_at, ends_at";

    public int RemainingQuantity => TotalQuantity - IssuedCount;

    /// <summary>Final: the quantity never grows, so a sold-out policy stays sold out.</summary>
    public bool SoldOut => IssuedCount >= TotalQuantity;

    public bool IsOpenAt(DateTimeOffset instant) => IssuanceWindow.Contains(StartsAt, EndsAt, instant);

    /// <summary>The current row of a reader over <see cref="Columns"/> (from the first ordinal on).</summary>
    public static PolicySnapshot Read(DbDataReader reader, int first = 0) => new(
        reader.GetInt64(first),
        reader.GetInt32(first + 1),
        reader.GetInt32(first + 2),
        reader.IsDBNull(first + 3) ? null : reader.GetFieldValue<DateTimeOffset>(first + 3),
        reader.IsDBNull(first + 4) ? null : reader.GetFieldValue<DateTimeOffset>(first + 4));
}
