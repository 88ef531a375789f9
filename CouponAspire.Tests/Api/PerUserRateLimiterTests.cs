using System.Security.Claims;
using System.Threading.RateLimiting;
using CouponAspire.Api;
using CouponAspire.Api.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace CouponAspire.Tests.Api;

/// <summary>The per-user limit: a burst, then a steady refill; administrators and unmarked endpoints unlimited; memory bounded.</summary>
public sealed class PerUserRateLimiterTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact(Timeout = Timeouts.Unit)]
    public void A_user_gets_the_burst_then_one_permit_per_refill_and_is_told_when_the_next_comes()
    {
        using var limiter = Limiter(new RateLimitOptions { Burst = 3, PermitsPerPeriod = 2, Period = TimeSpan.FromSeconds(1) });

        Enumerable.Range(0, 3).Select(_ => Acquire(limiter, "7")).ShouldAllBe(lease => lease.IsAcquired);
        var refused = Acquire(limiter, "7");
        var otherUser = Acquire(limiter, "8");
        _time.Advance(TimeSpan.FromMilliseconds(500));
        var afterRefill = Acquire(limiter, "7");

        refused.IsAcquired.ShouldBeFalse();
        refused.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter).ShouldBeTrue();
        retryAfter.ShouldBe(TimeSpan.FromMilliseconds(500));
        otherUser.IsAcquired.ShouldBeTrue();
        afterRefill.IsAcquired.ShouldBeTrue();
        Acquire(limiter, "7").IsAcquired.ShouldBeFalse("half a second refills one permit");
    }

    [Fact(Timeout = Timeouts.Unit)]
    public void Administrators_and_endpoints_without_the_mark_are_not_limited()
    {
        using var limiter = Limiter(new RateLimitOptions { Burst = 1, PermitsPerPeriod = 1, Period = TimeSpan.FromHours(1) });

        Enumerable.Range(0, 5).Select(_ => Acquire(limiter, "admin", admin: true)).ShouldAllBe(lease => lease.IsAcquired);
        Enumerable.Range(0, 5).Select(_ => Acquire(limiter, "9", marked: false)).ShouldAllBe(lease => lease.IsAcquired);
        limiter.TrackedUsers.ShouldBe(0);
    }

    [Fact(Timeout = Timeouts.Unit)]
    public void A_million_distinct_users_leave_no_more_buckets_than_the_bound()
    {
        using var limiter = Limiter(new RateLimitOptions { TrackedUsers = 10_000 });

        for (var user = 1; user <= 1_000_000; user++)
        {
            Acquire(limiter, user.ToString(System.Globalization.CultureInfo.InvariantCulture)).IsAcquired.ShouldBeTrue();
        }

        limiter.TrackedUsers.ShouldBeLessThanOrEqualTo(10_000);
        limiter.TrackedUsers.ShouldBeGreaterThan(9_000);
    }

    private PerUserRateLimiter Limiter(RateLimitOptions limits) => new(Options.Create(new CouponApiOptions { RateLimit = limits }), _time);

    private static RateLimitLease Acquire(PerUserRateLimiter limiter, string subject, bool admin = false, bool marked = true)
    {
        var context = new DefaultHttpContext
        {
            User = new ClaimsPrincipal(new ClaimsIdentity(
                admin ? [new Claim("sub", subject), new Claim("role", "coupon-admin")] : [new Claim("sub", subject)], "test", "sub", "role")),
        };
        context.SetEndpoint(new Endpoint(_ => Task.CompletedTask, marked ? new EndpointMetadataCollection(new PerUserRateLimitAttribute()) : EndpointMetadataCollection.Empty, "test"));
        return limiter.AttemptAcquire(context);
    }
}
