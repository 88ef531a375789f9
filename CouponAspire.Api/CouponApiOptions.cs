
namespace CouponAspire.Api;

/// <summary>Options of the <c>CouponApi</c> configuration section.</summary>
public sealed class CouponApiOptions
{
    public const string SectionName = "CouponApi";

    /// <summary>Largest request body accepted, in bytes; larger ones get 413 (default 4 KiB).</summary>
    public const long MaxRequestBodyBytes = 4 * 1024;

    /// <summary>
    /// How often every API instance re-reads the policies it is serving whose decisions it has not seen for as long
    /// (default 2 s): the sold-out gate's fallback when <c>coupon-decisions</c> is quiet or not followed, and how soon a
    /// policy created through another instance is found here.
    /// </summary>
    public TimeSpan PolicyRefreshInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How often a server-sent-events stream with nothing to say writes a comment, so that proxies keep it open (default 15 s).</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Issue requests a user may make: <see cref="RateLimitOptions.Burst"/> at once, then <see cref="RateLimitOptions.PermitsPerPeriod"/> every <see cref="RateLimitOptions.Period"/>.</summary>
    public RateLimitOptions RateLimit { get; set; } = new();
}
