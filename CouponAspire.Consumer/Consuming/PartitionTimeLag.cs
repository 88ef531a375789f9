namespace CouponAspire.Consumer.Consuming;

/// <summary>
/// How long the oldest undecided message of a partition has waited — the "time lag" beside the lag in messages. The
/// partition's end, as fetches report it, is noted whenever it moves: a message at offset <c>o</c> was in the log once
/// an end above <c>o</c> was seen, so the oldest undecided message (the next offset to decide) has waited since the
/// first end noted above it. Exact to the sampling interval, and independent of clocks other than this process's.
/// Holds at most <see cref="Capacity"/> ends: past that, every other one is dropped, so a partition left behind for long
/// keeps a coarser history in the same memory.
/// </summary>
internal sealed class PartitionTimeLag
{
    public const int Capacity = 512;

    private readonly LinkedList<(long End, long SeenAt)> _ends = new();

    /// <summary>Notes the partition's end as of <paramref name="now"/> (a <see cref="TimeProvider"/> timestamp).</summary>
    public void Observe(long end, long now)
    {
        if (_ends.Last is { } last && end <= last.Value.End)
        {
            return;
        }

        if (_ends.Count >= Capacity)
        {
            Coarsen();
        }

        _ends.AddLast((end, now));
    }

    /// <summary>How long the message at <paramref name="next"/> (the next to decide) has been in the log; zero when none is waiting.</summary>
    public TimeSpan Lag(long next, long now, TimeProvider time)
    {
        // Ends at or below the next offset to decide cover decided messages only.
        while (_ends.First is { } first && first.Value.End <= next)
        {
            _ends.RemoveFirst();
        }

        return _ends.First is { } oldest ? time.GetElapsedTime(oldest.Value.SeenAt, now) : TimeSpan.Zero;
    }

    private void Coarsen()
    {
        // Keeps the first (the oldest waiting) and every other one after it.
        var node = _ends.First?.Next;
        while (node is not null)
        {
            var next = node.Next;
            _ends.Remove(node);
            node = next?.Next;
        }
    }
}
