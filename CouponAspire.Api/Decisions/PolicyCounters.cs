namespace CouponAspire.Api.Decisions;

/// <summary>
/// The quantity left of each policy a sale page is watching (<c>GET /api/coupon-policies/{id}/events</c>), lowered by
/// every decision read from <c>coupon-decisions</c>: no database polling, and nothing kept for policies nobody watches.
/// </summary>
internal sealed class PolicyCounters
{
    private readonly SharedByKey<long, PolicyCounter> _watched = new(static () => new PolicyCounter());

    /// <summary>Watches a policy; disposing the lease stops watching.</summary>
    public SharedByKey<long, PolicyCounter>.Lease Watch(long policyId) => _watched.Join(policyId);

    public void Observe(long policyId, int remainingQuantity)
    {
        if (_watched.TryGet(policyId, out var counter))
        {
            counter.Lower(remainingQuantity);
        }
    }
}

/// <summary>A policy's quantity left as far as it is known here; it only ever falls.</summary>
internal sealed class PolicyCounter
{
    private readonly Lock _lock = new();
    private int _remaining = int.MaxValue;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int Remaining
    {
        get
        {
            lock (_lock)
            {
                return _remaining;
            }
        }
    }

    /// <summary>Completes at the next change: take it before reading <see cref="Remaining"/>, so that no change is missed.</summary>
    public Task Changed
    {
        get
        {
            lock (_lock)
            {
                return _changed.Task;
            }
        }
    }

    /// <summary>What a decision, or a read of the policy, says is left; a higher figure is older news and changes nothing.</summary>
    public void Lower(int remaining)
    {
        TaskCompletionSource changed;
        lock (_lock)
        {
            if (remaining >= _remaining)
            {
                return;
            }

            _remaining = remaining;
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }
}
