using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Npgsql;

namespace CouponAspire.Api.Policies;

/// <summary>
/// The API's view of the policies it serves — the sold-out gate. Every lookup is answered from memory; a background
/// loop re-reads the policies in use every <see cref="CouponApiOptions.PolicyRefreshInterval"/> with one query, so
/// a policy sold out by the consumers is refused here within that interval (plus a query). The gate can only be
/// late, never early: it refuses a request as sold out only after the database said the quantity was used up, when
/// no later request could win anyway. Unknown ids are remembered for one interval only, so that a flood of them
/// cannot fill memory and a policy created through another instance is found soon.
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
        var refresh = new List<long>();
        foreach (var (id, entry) in _entries)
        {
            var expired = entry.Policy is null
                ? time.GetElapsedTime(entry.LoadedAt, now) >= options.Value.PolicyRefreshInterval
                : time.GetElapsedTime(entry.LastUsed, now) > IdleEviction;
            if (expired)
            {
                _entries.TryRemove(new KeyValuePair<long, Entry>(id, entry));
            }
            else if (entry.Policy is { SoldOut: false })
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
            var lastUsed = _entries.TryGetValue(policy.Id, out var previous) ? previous.LastUsed : now;
            _entries[policy.Id] = new Entry(policy, now) { LastUsed = lastUsed };
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

    private sealed class Entry(PolicySnapshot? policy, long loadedAt)
    {
        public PolicySnapshot? Policy { get; } = policy;
        public long LoadedAt { get; } = loadedAt;
        public long LastUsed { get; set; } = loadedAt;
    }
}
