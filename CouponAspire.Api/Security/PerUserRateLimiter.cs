using System.Diagnostics.CodeAnalysis;
using System.Security.Claims;
using System.Threading.RateLimiting;
using BitFaster.Caching.Lru;
using CouponAspire.Contracts.Security;
using Microsoft.Extensions.Options;

namespace CouponAspire.Api.Security;

/// <summary>Marks the endpoints each user may call only so often (<see cref="PerUserRateLimiter"/>).</summary>
public sealed class PerUserRateLimitAttribute : Attribute;

/// <summary>
/// One token bucket per user (the token's subject) on the endpoints marked <see cref="PerUserRateLimitAttribute"/>:
/// a burst, then a steady rate. Administrators — trusted callers acting for many users — are not limited.
/// <para>
/// ASP.NET Core's partitioned limiter keeps every partition in one dictionary and walks all of it under a lock ten times a
/// second to refill and expire them: with a crowd of distinct users that walk grows with the crowd and holds every request
/// up. Here each bucket refills itself from the time that passed when it is next asked, so nothing walks them, and the
/// buckets are kept in a bounded LRU (<see cref="RateLimitOptions.TrackedUsers"/>): memory stays flat however many users
/// come. A bucket evicted is a user not seen for the longest: they start again with a full burst.
/// </para>
/// </summary>
internal sealed class PerUserRateLimiter : PartitionedRateLimiter<HttpContext>
{
    private static readonly RateLimitLease Unlimited = new Lease(true, null);
    private static readonly RateLimitLease Granted = new Lease(true, null);

    private readonly RateLimitOptions _limits;
    private readonly TimeProvider _time;
    private readonly FastConcurrentLru<string, TokenBucket> _buckets;

    public PerUserRateLimiter(IOptions<CouponApiOptions> options, TimeProvider time)
    {
        _limits = options.Value.RateLimit;
        _time = time;
        _buckets = new FastConcurrentLru<string, TokenBucket>(Math.Max(3, _limits.TrackedUsers));
    }

    /// <summary>Users whose buckets are kept now (at most <see cref="RateLimitOptions.TrackedUsers"/>).</summary>
    public int TrackedUsers => _buckets.Count;

    public override RateLimiterStatistics? GetStatistics(HttpContext resource) => null;

    protected override RateLimitLease AttemptAcquireCore(HttpContext resource, int permitCount)
    {
        if (resource.GetEndpoint()?.Metadata.GetMetadata<PerUserRateLimitAttribute>() is null || resource.User.IsAdmin())
        {
            return Unlimited;
        }

        var user = resource.User.FindFirstValue(BearerTokens.SubjectClaim) ?? resource.Connection.RemoteIpAddress?.ToString() ?? "anonymous";
        var now = _time.GetTimestamp();
        var bucket = _buckets.GetOrAdd(user, static (_, state) => new TokenBucket(state.Burst, state.Now), (Burst: _limits.Burst, Now: now));
        return bucket.TryTake(permitCount, now, _limits, _time, out var retryAfter) ? Granted : new Lease(false, retryAfter);
    }

    protected override ValueTask<RateLimitLease> AcquireAsyncCore(HttpContext resource, int permitCount, CancellationToken cancellationToken) =>
        ValueTask.FromResult(AttemptAcquireCore(resource, permitCount));

    /// <summary>A user's permits: refilled from the time elapsed whenever they are asked for, never above the burst.</summary>
    private sealed class TokenBucket(int burst, long since)
    {
        private double _permits = burst;
        private long _refilledAt = since;

        public bool TryTake(int count, long now, RateLimitOptions limits, TimeProvider time, out TimeSpan retryAfter)
        {
            var perTick = limits.PermitsPerPeriod / (limits.Period.TotalSeconds * time.TimestampFrequency);
            lock (this)
            {
                _permits = Math.Min(limits.Burst, _permits + ((now - _refilledAt) * perTick));
                _refilledAt = now;
                if (_permits >= count)
                {
                    _permits -= count;
                    retryAfter = TimeSpan.Zero;
                    return true;
                }

                retryAfter = TimeSpan.FromSeconds((count - _permits) / perTick / time.TimestampFrequency);
                return false;
            }
        }
    }

    private sealed class Lease(bool acquired, TimeSpan? retryAfter) : RateLimitLease
    {
        public override bool IsAcquired => acquired;

        public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = retryAfter;
            return retryAfter is not null && metadataName == MetadataName.RetryAfter.Name;
        }
    }
}
