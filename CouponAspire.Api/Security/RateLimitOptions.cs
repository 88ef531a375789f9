namespace CouponAspire.Api.Security;

/// <summary>
/// How many issue requests a user may make (<c>CouponApi:RateLimit</c>): <see cref="Burst"/> at once, then
/// <see cref="PermitsPerPeriod"/> more every <see cref="Period"/>. The buckets of at most <see cref="TrackedUsers"/>
/// users are kept, the least recently seen leaving first.
/// </summary>
public sealed class RateLimitOptions
{
    public int Burst { get; set; } = 10;
    public int PermitsPerPeriod { get; set; } = 5;
    public TimeSpan Period { get; set; } = TimeSpan.FromSeconds(1);
    public int TrackedUsers { get; set; } = 100_000;
}
