using System.Diagnostics;

namespace CouponAspire.LoadGenerator;

/// <summary>What polling found: each request's decided state (null if never seen decided), and what it took.</summary>
internal sealed record PollResult(RequestStatusView?[] Outcomes, long Calls, long Errors, TimeSpan Duration);

/// <summary>
/// Reads every request's outcome with the administrator's token, a bounded number at a time, in passes until every
/// required one is decided or the deadline passes. Reads are safe to repeat, so failures are simply read again.
/// </summary>
internal sealed class OutcomePoller(CouponApiClient api, LiveCounters counters)
{
    private static readonly TimeSpan PauseBetweenPasses = TimeSpan.FromMilliseconds(250);

    /// <param name="required">Whether a request must be decided; the others (503s with an unknown outcome) are read while waiting, never waited for.</param>
    public async Task<PollResult> PollAsync(
        IReadOnlyList<string> requestIds, IReadOnlyList<bool> required, int concurrency, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var outcomes = new RequestStatusView?[requestIds.Count];
        long calls = 0;
        long errors = 0;
        var pending = Enumerable.Range(0, requestIds.Count).ToList();
        counters.StartPhase("polling", required.Count(r => r));
        var options = new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken };
        while (pending.Count > 0)
        {
            await Parallel.ForEachAsync(pending, options, async (index, token) =>
            {
                try
                {
                    var status = await api.GetRequestAsync(requestIds[index], token);
                    if (status is { Decided: true })
                    {
                        outcomes[index] = status;
                        if (required[index])
                        {
                            counters.Decided();
                        }
                    }
                }
                catch (Exception e) when (e is HttpRequestException or System.Text.Json.JsonException
                                          || (e is TaskCanceledException && !token.IsCancellationRequested))
                {
                    Interlocked.Increment(ref errors);
                }
                finally
                {
                    Interlocked.Increment(ref calls);
                    counters.Polled();
                }
            });

            pending.RemoveAll(index => outcomes[index] is not null);
            if (!pending.Exists(index => required[index]) || DateTimeOffset.UtcNow >= deadline)
            {
                break;
            }

            await Task.Delay(PauseBetweenPasses, cancellationToken);
        }

        return new PollResult(outcomes, calls, errors, Stopwatch.GetElapsedTime(started));
    }
}
