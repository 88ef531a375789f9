using CouponAspire.Api.Decisions;
using Npgsql;

namespace CouponAspire.Api.Requests;

/// <summary>
/// What became of a request: from the decisions this instance has read (<see cref="RecentDecisions"/>), and from
/// PostgreSQL only for a request older than what it keeps, or while it is not following <c>coupon-decisions</c>. A
/// decision is returned as read; null means not decided yet.
/// </summary>
internal sealed class RequestOutcomes(RecentDecisions recent, NpgsqlDataSource dataSource, TimeProvider time)
{
    /// <summary>How often a client waiting while the stream is not followed has PostgreSQL looked at again.</summary>
    private static readonly TimeSpan StoredPollInterval = TimeSpan.FromSeconds(1);

    public async ValueTask<KnownDecision?> ReadAsync(SignedRequest request, CancellationToken cancellationToken) =>
        recent.Find(request.RequestId, request.RequestedAt, out var decision) switch
        {
            RecentState.Decided => decision,
            RecentState.Undecided => null,
            _ => await ReadStoredAsync(request.RequestId, cancellationToken),
        };

    /// <summary>Starts waiting for a request's decision: registered before it looks, so that no decision slips between.</summary>
    public Watch WatchFor(SignedRequest request) => new(this, request, recent.Wait(request.RequestId));

    private async Task<KnownDecision?> WaitAsync(SignedRequest request, Task<KnownDecision> decided, TimeSpan wait, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        while (true)
        {
            var left = wait - time.GetElapsedTime(started);
            if (left <= TimeSpan.Zero)
            {
                return null;
            }

            var following = recent.IsFollowing;
            try
            {
                return await decided.WaitAsync(following ? left : TimeSpan.FromTicks(Math.Min(left.Ticks, StoredPollInterval.Ticks)), time, cancellationToken);
            }
            catch (TimeoutException) when (!following)
            {
                if (await ReadStoredAsync(request.RequestId, cancellationToken) is { } stored)
                {
                    return stored;
                }
            }
            catch (TimeoutException)
            {
                return null;
            }
        }
    }

    private async Task<KnownDecision?> ReadStoredAsync(string requestId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT policy_id, user_id, outcome, coupon_id, requested_at, decided_at, remaining_quantity
            FROM request_outcomes WHERE request_id = $1
            """).With(requestId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new KnownDecision(
                requestId,
                reader.GetInt64(0),
                reader.GetInt64(1),
                Enum.Parse<IssuanceOutcome>(reader.GetString(2)),
                reader.IsDBNull(3) ? null : reader.GetInt64(3),
                reader.GetFieldValue<DateTimeOffset>(4),
                reader.GetFieldValue<DateTimeOffset>(5),
                reader.IsDBNull(6) ? null : reader.GetInt32(6),
                default)
            : null;
    }

    /// <summary>One client waiting for one request's decision; dispose it when done.</summary>
    public sealed class Watch(RequestOutcomes owner, SignedRequest request, SharedByKey<string, TaskCompletionSource<KnownDecision>>.Lease waiting) : IDisposable
    {
        /// <summary>What is known now.</summary>
        public ValueTask<KnownDecision?> ReadAsync(CancellationToken cancellationToken) => owner.ReadAsync(request, cancellationToken);

        /// <summary>
        /// The decision as soon as it is read, or null after <paramref name="wait"/>. While the stream is not followed,
        /// PostgreSQL is looked at every second instead.
        /// </summary>
        public Task<KnownDecision?> WaitAsync(TimeSpan wait, CancellationToken cancellationToken) =>
            owner.WaitAsync(request, waiting.Value.Task, wait, cancellationToken);

        public void Dispose() => waiting.Dispose();
    }
}
