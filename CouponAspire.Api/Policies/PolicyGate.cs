using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Npgsql;

namespace CouponAspire.Api.Policies;

/// <summary>
/// The API's view of the policies it serves — the sold-out gate. Every lookup is answered from memory. Each decision
/// read from <c>coupon-decisions</c> says how much of its policy is left (<see cref="Observe"/>), so a policy is closed
/// here as soon as this instance reads the decision that took its last coupon. A background loop re-reads, every
/// <see cref="CouponApiOptions.PolicyRefreshInterval"/> and with one query, the policies in use whose decisions it has
/// not seen for that long: the fallback when the stream is quiet or not followed. The gate can only be late, never early:
/// it refuses a request as sold out only after a committed decision or the database said the quantity was used up, when
/// no later request could win anyway. Unknown ids are remembered for one interval only, so that a flood of them cannot
/// fill memory and a policy created through another instance is found soon.
/// </summary>
internal sealed partial class PolicyGate(NpgsqlDataSource dataSource, TimeProvider time, IOptions<CouponApiOptions> options, ILogger<PolicyGate> logger)
    : BackgroundService
{
    private static readonly TimeSpan IdleEviction = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<long, Entry> _entries = new();
    private readonly ConcurrentDictionary<long, Lazy<Task<PolicySnapshot?>>> _loading = new();

    public ValueTask<PolicySnapshot?> FindAsync(long policyId, CancellationToken cancellationToken)
    {
        var now = time.GetTimestamp();
        if (_entries.TryGetValue(policyId, out var entry)
            && (entry.Policy is not null || time.GetElapsedTime(entry.LoadedAt, now) < options.Value.PolicyRefreshInterval))
        {
            entry.LastUsed = now;
            return ValueTask.FromResult(entry.Policy);
        }

        // One query per policy however many requests miss at once.
        var load = _loading.GetOrAdd(policyId, id => new Lazy<Task<PolicySnapshot?>>(() => LoadAsync(id)));
        return new ValueTask<PolicySnapshot?>(load.Value.WaitAsync(cancellationToken));
    }

    /// <summary>A policy this instance just created is served at once.</summary>
    public void Remember(PolicySnapshot policy) => _entries[policy.Id] = new Entry(policy, time.GetTimestamp());

    /// <summary>A decision read from the stream: its policy has <paramref name="remainingQuantity"/> left.</summary>
    public void Observe(long policyId, int remainingQuantity)
    {
        if (_entries.TryGetValue(policyId, out var entry))
        {
            entry.Observe(remainingQuantity, time.GetTimestamp());
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.PolicyRefreshInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await RefreshAsync(stoppingToken);
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                // Keep serving what is known; a sold-out policy is still refused, an open one still accepted.
                LogRefreshFailed(e);
            }
        }
    }

    private async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var now = time.GetTimestamp();
        var interval = options.Value.PolicyRefreshInterval;
        var refresh = new List<long>();
        foreach (var (id, entry) in _entries)
        {
            var expired = entry.Policy is null
                ? time.GetElapsedTime(entry.LoadedAt, now) >= interval
                : time.GetElapsedTime(entry.LastUsed, now) > IdleEviction;
            if (expired)
            {
                _entries.TryRemove(new KeyValuePair<long, Entry>(id, entry));
            }
            else if (entry.Policy is { SoldOut: false } && time.GetElapsedTime(entry.UpdatedAt, now) >= interval)
            {
                refresh.Add(id);
            }
        }

        if (refresh.Count == 0)
        {
            return;
        }

        foreach (var policy in await QueryAsync(refresh.ToArray(), cancellationToken))
        {
            if (_entries.TryGetValue(policy.Id, out var entry))
            {
                entry.Refresh(policy, now);
            }
        }
    }

    private async Task<PolicySnapshot?> LoadAsync(long policyId)
    {
        try
        {
            var policy = (await QueryAsync([policyId], CancellationToken.None)).SingleOrDefault();
            _entries[policyId] = new Entry(policy, time.GetTimestamp());
            return policy;
        }
        finally
        {
            _loading.TryRemove(policyId, out _);
        }
    }

    private async Task<List<PolicySnapshot>> QueryAsync(long[] ids, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT {PolicySnapshot.Columns} FROM coupon_policies WHERE id = ANY($1)").With(ids);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var policies = new List<PolicySnapshot>(ids.Length);
        while (await reader.ReadAsync(cancellationToken))
        {
            policies.Add(PolicySnapshot.Read(reader));
        }

        return policies;
    }

    [LoggerMessage(LogLevel.Warning, "Could not refresh the policies in use; serving what is known")]
    private partial void LogRefreshFailed(Exception exception);

    /// <summary>One policy as known here: what the database or the decisions said last, and when.</summary>
    private sealed class Entry(PolicySnapshot? policy, long loadedAt)
    {
        private readonly Lock _lock = new();
        private volatile PolicySnapshot? _policy = policy;
        private long _updatedAt = loadedAt;

        public PolicySnapshot? Policy => _policy;
        public long LoadedAt { get; } = loadedAt;
        public long LastUsed { get; set; } = loadedAt;

        /// <summary>When the database or a decision last said how much is left.</summary>
        public long UpdatedAt => Volatile.Read(ref _updatedAt);

        /// <summary>A decision says how much is left; issued counts only grow, so an older figure changes nothing.</summary>
        public void Observe(int remainingQuantity, long now)
        {
            lock (_lock)
            {
                if (_policy is { } known)
                {
                    _policy = known with { IssuedCount = Math.Max(known.IssuedCount, known.TotalQuantity - remainingQuantity) };
                    Volatile.Write(ref _updatedAt, now);
                }
            }
        }

        /// <summary>The database's row, read while decisions may have been seen: the larger issued count wins.</summary>
        public void Refresh(PolicySnapshot read, long now)
        {
            lock (_lock)
            {
                _policy = read with { IssuedCount = Math.Max(read.IssuedCount, _policy?.IssuedCount ?? 0) };
                Volatile.Write(ref _updatedAt, now);
            }
        }
    }
}
