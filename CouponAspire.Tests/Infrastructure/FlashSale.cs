using System.Globalization;
using System.Threading.RateLimiting;

namespace CouponAspire.Tests.Infrastructure;

/// <summary>A request the API accepted (202).</summary>
public sealed record AcceptedRequest(string RequestId, long PolicyId, long UserId);

/// <summary>What the API answered a crowd: the requests it accepted, and how many it answered otherwise, by status.</summary>
public sealed record FlashSaleResult(List<AcceptedRequest> Accepted, Dictionary<HttpStatusCode, int> Others)
{
    public int Refused => Others.GetValueOrDefault(HttpStatusCode.Conflict);
}

/// <summary>
/// How far a running sale has come: answers so far, by kind, and whether every request has been answered. A sale
/// without a planned count goes on until <see cref="Stop"/>.
/// </summary>
public sealed class SaleProgress(int? planned = null)
{
    private int _answered;
    private int _accepted;
    private int _unavailable;
    private volatile bool _stopped;

    public int? Planned { get; } = planned;
    public bool Stopped => _stopped;
    public int Answered => Volatile.Read(ref _answered);
    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>Answers 503: the broker did not take the request in time.</summary>
    public int Unavailable => Volatile.Read(ref _unavailable);

    public bool Finished => _stopped || Answered == Planned;

    /// <summary>No new requests from now on; those in flight are answered.</summary>
    public void Stop() => _stopped = true;

    internal void Count(HttpStatusCode status)
    {
        if (status == HttpStatusCode.Accepted)
        {
            Interlocked.Increment(ref _accepted);
        }
        else if (status == HttpStatusCode.ServiceUnavailable)
        {
            Interlocked.Increment(ref _unavailable);
        }

        Interlocked.Increment(ref _answered);
    }

    public override string ToString() => $"{Answered} of {Planned?.ToString() ?? "unlimited"} answered, {Accepted} accepted, {Unavailable} answered 503";
}

/// <summary>A crowd asking for coupons at once, through the API.</summary>
public static class FlashSale
{
    /// <summary>
    /// <paramref name="count"/> requests (or, without a count, requests until <see cref="SaleProgress.Stop"/>) spread
    /// over <paramref name="policyIds"/> from <paramref name="users"/> distinct users (so most users ask more than once),
    /// sent <paramref name="concurrency"/> at a time. Any answer but 202 and 409 (refused by the gate) fails the test,
    /// and so does 503 (broker unavailable) unless <paramref name="unavailableAllowed"/>: a sale without a fault in Kafka
    /// is never refused for it. With <paramref name="perSecond"/>, no more requests than that are sent a second (a sale
    /// that goes on for a while stays within what the mock cluster keeps of a partition, about 5 MB).
    /// </summary>
    public static Task<FlashSaleResult> RunAsync(
        CouponSystem system,
        IReadOnlyList<long> policyIds,
        int? count,
        int users,
        int concurrency = 32,
        int seed = 1,
        SaleProgress? progress = null,
        int? perSecond = null,
        bool unavailableAllowed = false) =>
        RunAsync(system.TryRequestAsync, policyIds, count, users, concurrency, seed, progress, perSecond, unavailableAllowed);

    /// <param name="ask">Asks for a coupon of a policy for a user: the answer's status, and the request id when it was 202.</param>
    public static async Task<FlashSaleResult> RunAsync(
        Func<long, long, Task<(HttpStatusCode Status, string? RequestId)>> ask,
        IReadOnlyList<long> policyIds,
        int? count,
        int users,
        int concurrency = 32,
        int seed = 1,
        SaleProgress? progress = null,
        int? perSecond = null,
        bool unavailableAllowed = false)
    {
        // Printed, so that a failing run can be replayed with the same crowd.
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"Flash sale: {count?.ToString(CultureInfo.InvariantCulture) ?? "unlimited"} requests from {users} users over {policyIds.Count} policies, "
            + $"concurrency {concurrency}{(perSecond is { } rate ? $", at most {rate}/s" : "")}, seed {seed}");
        var random = new Random(seed);
        var result = new FlashSaleResult([], []);
        using var pace = perSecond is { } limit ? Pace(limit) : null;
        var options = new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = TestContext.Current.CancellationToken };
        await Parallel.ForEachAsync(Asks(random, policyIds, count, users, progress), options, async (request, cancellationToken) =>
        {
            if (pace is not null)
            {
                using var permit = await pace.AcquireAsync(1, cancellationToken);
            }

            var (status, requestId) = await ask(request.PolicyId, request.UserId);
            status.ShouldBeOneOf(unavailableAllowed ? [HttpStatusCode.Accepted, HttpStatusCode.Conflict, HttpStatusCode.ServiceUnavailable] : [HttpStatusCode.Accepted, HttpStatusCode.Conflict]);
            lock (result)
            {
                if (requestId is { } id)
                {
                    result.Accepted.Add(new AcceptedRequest(id, request.PolicyId, request.UserId));
                }
                else
                {
                    result.Others[status] = result.Others.GetValueOrDefault(status) + 1;
                }
            }

            progress?.Count(status);
        });
        return result;
    }

    /// <summary>Permits for <paramref name="perSecond"/> requests a second, handed out every 50 ms.</summary>
    private static TokenBucketRateLimiter Pace(int perSecond)
    {
        var perPeriod = Math.Max(1, perSecond / 20);
        return new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = perPeriod,
            TokensPerPeriod = perPeriod,
            ReplenishmentPeriod = TimeSpan.FromMilliseconds(50),
            QueueLimit = int.MaxValue,
            AutoReplenishment = true,
        });
    }

    private static IEnumerable<(long PolicyId, long UserId)> Asks(Random random, IReadOnlyList<long> policyIds, int? count, int users, SaleProgress? progress)
    {
        // The loop's workers take asks one at a time from this one enumerator: the crowd is the seed's, in its order.
        for (var i = 0; (count is null || i < count) && progress?.Stopped != true; i++)
        {
            yield return (policyIds[random.Next(policyIds.Count)], random.Next(1, users + 1));
        }
    }
}
