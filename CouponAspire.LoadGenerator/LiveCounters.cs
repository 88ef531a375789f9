using System.Diagnostics;

namespace CouponAspire.LoadGenerator;

/// <summary>What the progress view shows, counted lock-free by the senders and pollers.</summary>
internal sealed class LiveCounters
{
    private long _sent;
    private long _accepted;
    private long _refused;
    private long _errors;
    private long _polls;
    private long _decided;
    private long _toDecide;
    private string _phase = "starting";
    private long _phaseStarted = Stopwatch.GetTimestamp();

    public void Accepted() => Answered(ref _accepted);

    /// <summary>An answer the API was designed to give under load: 409, 429, 503.</summary>
    public void Refused() => Answered(ref _refused);

    /// <summary>No answer, or one that should not happen (a 5xx other than 503, a 4xx other than 409 and 429).</summary>
    public void Failed() => Answered(ref _errors);

    public void Polled() => Interlocked.Increment(ref _polls);

    public void Decided() => Interlocked.Increment(ref _decided);

    public void StartPhase(string phase, long toDecide = 0)
    {
        Volatile.Write(ref _toDecide, toDecide);
        Volatile.Write(ref _phaseStarted, Stopwatch.GetTimestamp());
        Volatile.Write(ref _phase, phase);
    }

    public LiveSnapshot Read() => new(
        Volatile.Read(ref _phase),
        Stopwatch.GetElapsedTime(Volatile.Read(ref _phaseStarted)),
        Interlocked.Read(ref _sent),
        Interlocked.Read(ref _accepted),
        Interlocked.Read(ref _refused),
        Interlocked.Read(ref _errors),
        Interlocked.Read(ref _polls),
        Interlocked.Read(ref _decided),
        Interlocked.Read(ref _toDecide));

    private void Answered(ref long kind)
    {
        Interlocked.Increment(ref kind);
        Interlocked.Increment(ref _sent);
    }
}

internal readonly record struct LiveSnapshot(
    string Phase, TimeSpan PhaseElapsed, long Sent, long Accepted, long Refused, long Errors, long Polls, long Decided, long ToDecide)
{
    /// <summary>HTTP calls so far, issue requests and outcome reads alike: the basis of the current rate.</summary>
    public long Calls => Sent + Polls;
}
