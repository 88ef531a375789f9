
namespace CouponAspire.Api;

/// <summary>Options of the <c>CouponApi</c> configuration section.</summary>
public sealed class CouponApiOptions
{
    public const string SectionName = "CouponApi";

    /// <summary>Largest request body accepted, in bytes; larger ones get 413 (default 4 KiB).</summary>
    public const long MaxRequestBodyBytes = 4 * 1024;

    /// <summary>
    /// How often every API instance re-reads the policies it is serving (default 200 ms): a policy sold out, or one
    /// created through another instance, is known here at most this long plus one query later.
    /// </summary>
    public TimeSpan PolicyRefreshInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Issue requests a user may make: <see cref="RateLimitOptions.Burst"/> at once, then <see cref="RateLimitOptions.PermitsPerPeriod"/> every <see cref="RateLimitOptions.Period"/>.</summary>
    public RateLimitOptions RateLimit { get; set; } = new();
}
