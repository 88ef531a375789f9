using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Options;

namespace CouponAspire.Api.Decisions;

/// <summary>A decision as this API read it from <c>coupon-decisions</c>, and the trace context it was published in.</summary>
internal sealed record KnownDecision(
    string RequestId,
    long PolicyId,
    long UserId,
    IssuanceOutcome Outcome,
    long? CouponId,
    DateTimeOffset RequestedAt,
    DateTimeOffset DecidedAt,
    int? RemainingQuantity,
    ActivityContext Published)
{
    public static KnownDecision Of(CouponDecided decided, ActivityContext published) => new(
        decided.RequestId, decided.PolicyId, decided.UserId, decided.Outcome, decided.CouponId, decided.RequestedAt, decided.DecidedAt, decided.RemainingQuantity, published);
}

/// <summary>What this instance knows of a request without asking PostgreSQL.</summary>
internal enum RecentState
{
    /// <summary>Decided: the decision is here.</summary>
    Decided,

    /// <summary>
    /// Not decided yet, as far as the stream has been read: the request came after this instance began following and
    /// after the oldest decision it let go of, so a decision of it would be here.
    /// </summary>
    Undecided,

    /// <summary>Older than what is kept here, or the stream is not being followed: only PostgreSQL knows.</summary>
    Unknown,
}

/// <summary>
/// The decisions this API instance has read from <c>coupon-decisions</c>, kept so that reads of recent requests never
/// touch PostgreSQL, and the clients waiting for one. Bounded in count (<see cref="DecisionsOptions.Capacity"/>) and
/// in age (<see cref="DecisionsOptions.MaxAge"/>): the oldest read go first. It knows which requests it can answer
/// for: every decision read since <see cref="CompleteSince"/> is here, so a request accepted after that (with a margin
/// for the clocks of other instances) is either here or not decided yet. Written by one thread (the follower), read by
/// any.
/// </summary>
internal sealed class RecentDecisions(IOptions<DecisionsOptions> options, TimeProvider time)
{
    /// <summary>How far the clocks of two API instances may disagree: a request's time is its accepting instance's.</summary>
    public static readonly TimeSpan ClockMargin = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<string, KnownDecision> _decisions = new(StringComparer.Ordinal);
    private readonly Queue<(string RequestId, DateTimeOffset ReadAt)> _readOrder = new();
    private readonly SharedByKey<string, TaskCompletionSource<KnownDecision>> _waiters =
        new(static () => new TaskCompletionSource<KnownDecision>(TaskCreationOptions.RunContinuationsAsynchronously));
    private long _completeSinceTicks = DateTimeOffset.MaxValue.UtcTicks;

    /// <summary>Every decision read at or after this instant is kept; <see cref="DateTimeOffset.MaxValue"/> while not following.</summary>
    public DateTimeOffset CompleteSince => new(Volatile.Read(ref _completeSinceTicks), TimeSpan.Zero);

    public int Count => _decisions.Count;

    /// <summary>The follower reads the stream from here on: decisions published from now are seen.</summary>
    public void Following(DateTimeOffset since) => Volatile.Write(ref _completeSinceTicks, since.UtcTicks);

    /// <summary>The follower stopped: what was kept stays, but nothing can be said of what is not.</summary>
    public void NotFollowing() => Volatile.Write(ref _completeSinceTicks, DateTimeOffset.MaxValue.UtcTicks);

    public bool IsFollowing => Volatile.Read(ref _completeSinceTicks) != DateTimeOffset.MaxValue.UtcTicks;

    /// <summary>
    /// Keeps a decision read now (unless kept already: a redelivered one is the same) and wakes whoever waits for it.
    /// Returns whether anyone did.
    /// </summary>
    public bool Add(KnownDecision decision)
    {
        var now = time.GetUtcNow();
        if (_decisions.TryAdd(decision.RequestId, decision))
        {
            _readOrder.Enqueue((decision.RequestId, now));
            while (_readOrder.Count > options.Value.Capacity)
            {
                Evict();
            }
        }

        return _waiters.TryGet(decision.RequestId, out var waiting) && waiting.TrySetResult(decision);
    }

    /// <summary>Lets go of the decisions read longer ago than <see cref="DecisionsOptions.MaxAge"/>.</summary>
    public void EvictExpired()
    {
        var oldest = time.GetUtcNow() - options.Value.MaxAge;
        while (_readOrder.TryPeek(out var first) && first.ReadAt < oldest)
        {
            Evict();
        }
    }

    private void Evict()
    {
        // Whatever was read after this one is still kept. Said before it goes, so that a reader who misses it knows why.
        var (requestId, readAt) = _readOrder.Dequeue();
        if (readAt.UtcTicks > Volatile.Read(ref _completeSinceTicks))
        {
            Volatile.Write(ref _completeSinceTicks, readAt.UtcTicks);
        }

        _decisions.TryRemove(requestId, out _);
    }

    /// <summary>What is known here of a request accepted at <paramref name="requestedAt"/>.</summary>
    public RecentState Find(string requestId, DateTimeOffset requestedAt, out KnownDecision? decision)
    {
        if (_decisions.TryGetValue(requestId, out decision))
        {
            return RecentState.Decided;
        }

        // Read after the miss: an eviction moves CompleteSince forward before it removes, so a decision missed because it
        // was let go of reads as Unknown, never as Undecided.
        var completeSince = Volatile.Read(ref _completeSinceTicks);
        return completeSince != DateTimeOffset.MaxValue.UtcTicks && requestedAt.UtcTicks >= completeSince + ClockMargin.Ticks
            ? RecentState.Undecided
            : RecentState.Unknown;
    }

    /// <summary>
    /// Registers a client waiting for a request's decision; disposing it stops waiting. Register first, then look
    /// (<see cref="Find"/>): a decision read in between completes the registration, one read before is found by the look.
    /// </summary>
    public SharedByKey<string, TaskCompletionSource<KnownDecision>>.Lease Wait(string requestId) => _waiters.Join(requestId);

    /// <summary>Requests that clients wait for now.</summary>
    public int Waiting => _waiters.Count;
}
