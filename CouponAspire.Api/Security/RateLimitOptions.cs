namespace CouponAspire.Api.Security;

/// <summary>How many issue requests a user may make (<c>CouponApi:RateLimit</c>): a burst at once, then a steady rate.</summary>
public sealed class RateLimitOptions
{
    public int PermitsPerSecond { get; set; } = 5;
    public int Burst { get; set; } = 10;
}
