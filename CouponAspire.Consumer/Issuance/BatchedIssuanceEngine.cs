using CouponAspire.Data;
using Npgsql;

namespace CouponAspire.Consumer.Issuance;

/// <summary>
/// Decides a whole batch in one transaction of two round trips: lock the batch's policies and read what is already
/// recorded (one), plan every decision in memory in offset order (<see cref="BatchPlanner"/>), then write coupons,
/// counts and outcomes in one statement and commit, sent together (the other).
/// </summary>
internal sealed class BatchedIssuanceEngine(NpgsqlDataSource dataSource, TimeProvider timeProvider) : IIssuanceEngine, IDisposable
{
    // The connection of the last batch, kept for the next rather than returned to the pool: the pool hands out its idle
    // connections oldest first, so once a second one existed (a health check's) a consumer's batches alternated between
    // two PostgreSQL server processes, each colder, and the same statements ran slower than on one.
    private NpgsqlConnection? _kept;

    public IssuanceStrategy Strategy => IssuanceStrategy.Batched;

    public async Task<IReadOnlyList<IssuanceDecision>> DecideAsync(IReadOnlyList<IssuanceRequest> batch, CancellationToken cancellationToken)
    {
        if (batch.Count == 0)
        {
            return [];
        }

        return await ConflictRetry.RunAsync(ct => DecideOnceAsync(batch, write: true, ct), cancellationToken);
    }

    /// <summary>
    /// Decides a full batch of requests that cannot exist (policy 0) the way a real batch is decided, except that the
    /// write statement runs with no rows and the transaction is rolled back: nothing is written, but the pool's first
    /// connection is open and this process has run a batch's code (statements, plan, results) before the first sale
    /// needs it. Cold, that code took a first batch ~0.7 s to compile.
    /// </summary>
    public async Task WarmUpAsync(int batchSize, CancellationToken cancellationToken) =>
        await ConflictRetry.RunAsync(ct => DecideOnceAsync(WarmUpRequest.Batch(batchSize), write: false, ct), cancellationToken);

    private async Task<IReadOnlyList<IssuanceDecision>> DecideOnceAsync(IReadOnlyList<IssuanceRequest> batch, bool write, CancellationToken cancellationToken)
    {
        var connection = Interlocked.Exchange(ref _kept, null) ?? await dataSource.OpenConnectionAsync(cancellationToken);
        IssuanceDecision[] decisions;
        try
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            (decisions, var committed) = await DecideInAsync(connection, batch, write, cancellationToken);
            if (!write)
            {
                await transaction.RollbackAsync(cancellationToken);
            }
            else if (!committed)
            {
                await transaction.CommitAsync(cancellationToken);
            }
        }
        catch
        {
            await connection.DisposeAsync(); // back to the pool, which discards it if it broke
            throw;
        }

        // Kept unless a batch deciding meanwhile (another consume loop's) kept its own first.
        if (Interlocked.CompareExchange(ref _kept, connection, null) is not null)
        {
            await connection.DisposeAsync();
        }

        return decisions;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _kept, null) is { } kept)
        {
            await kept.DisposeAsync();
        }
    }

    public void Dispose() => Interlocked.Exchange(ref _kept, null)?.Dispose();

    /// <summary>Decides the batch; <c>Committed</c>: whether its write committed the transaction (not when there was nothing new to write).</summary>
    private async Task<(IssuanceDecision[] Decisions, bool Committed)> DecideInAsync(
        NpgsqlConnection connection, IReadOnlyList<IssuanceRequest> batch, bool write, CancellationToken cancellationToken)
    {
        var state = await ReadStateAsync(connection, batch, cancellationToken);
        var plan = BatchPlanner.Plan(batch, state);
        var decidedAt = EventTime.Truncate(timeProvider.GetUtcNow());
        var fresh = write ? plan.Where(d => !d.Replayed).ToArray() : [];
        var committed = fresh.Length > 0;
        var couponIds = write && !committed ? [] : await WriteAsync(connection, fresh, decidedAt, commit: committed, cancellationToken);

        var decisions = new IssuanceDecision[plan.Count];
        for (var i = 0; i < plan.Count; i++)
        {
            var (request, outcome, knownCouponId, replayed, remaining, storedDecidedAt) = plan[i];
            var couponId = knownCouponId ?? (couponIds.TryGetValue(request.RequestId, out var id) ? id : null);
            decisions[i] = new IssuanceDecision(request.RequestId, outcome, couponId, replayed, storedDecidedAt ?? decidedAt, remaining);
        }

        return (decisions, committed);
    }

    private static async Task<BatchState> ReadStateAsync(NpgsqlConnection connection, IReadOnlyList<IssuanceRequest> batch, CancellationToken cancellationToken)
    {
        // Sized for the batch up front: grown from empty, the sets cost more than the rest of the planning.
        var policySet = new HashSet<long>();
        var requestSet = new HashSet<string>(batch.Count, StringComparer.Ordinal);
        var pairSet = new HashSet<(long PolicyId, long UserId)>(batch.Count);
        foreach (var request in batch)
        {
            policySet.Add(request.PolicyId);
            requestSet.Add(request.RequestId);
            pairSet.Add((request.PolicyId, request.UserId));
        }

        var policyIds = policySet.ToArray();
        var requestIds = requestSet.ToArray();
        var pairs = pairSet.ToArray();

        await using var read = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand(IssuanceSql.LockPolicies).With(policyIds),
                new NpgsqlBatchCommand(IssuanceSql.StoredOutcomes).With(requestIds),
                new NpgsqlBatchCommand(IssuanceSql.HeldCoupons).With(pairs.Select(p => p.PolicyId).ToArray()).With(pairs.Select(p => p.UserId).ToArray()),
            },
        };
        await using var reader = await read.ExecuteReaderAsync(cancellationToken);

        var policies = new Dictionary<long, PolicySnapshot>(policyIds.Length);
        while (await reader.ReadAsync(cancellationToken))
        {
            var policy = PolicySnapshot.Read(reader);
            policies.Add(policy.Id, policy);
        }

        await reader.NextResultAsync(cancellationToken);
        var stored = new Dictionary<string, StoredOutcome>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            stored.Add(reader.GetString(0), new StoredOutcome(
                Enum.Parse<IssuanceOutcome>(reader.GetString(1)),
                reader.IsDBNull(2) ? null : reader.GetInt64(2),
                reader.GetFieldValue<DateTimeOffset>(3),
                reader.IsDBNull(4) ? null : reader.GetInt32(4)));
        }

        await reader.NextResultAsync(cancellationToken);
        var held = new Dictionary<(long, long), long>();
        while (await reader.ReadAsync(cancellationToken))
        {
            held.Add((reader.GetInt64(0), reader.GetInt64(1)), reader.GetInt64(2));
        }

        return new BatchState(policies, stored, held);
    }

    /// <summary>
    /// Writes the coupons, counts and outcomes of <paramref name="fresh"/> (none at all when it is empty) in one statement,
    /// and with <paramref name="commit"/> commits the transaction in the same round trip: the coupon ids are returned once
    /// the commit has succeeded. Should the statement fail, the commit is not run and the transaction is rolled back.
    /// </summary>
    private static async Task<Dictionary<string, long>> WriteAsync(
        NpgsqlConnection connection, PlannedDecision[] fresh, DateTimeOffset decidedAt, bool commit, CancellationToken cancellationToken)
    {
        var couponIds = new Dictionary<string, long>();
        var winners = fresh.Where(d => d.Outcome == IssuanceOutcome.Issued).Select(d => d.Request).ToArray();
        var issuedPerPolicy = winners.GroupBy(w => w.PolicyId).Select(g => (PolicyId: g.Key, Issued: g.Count())).ToArray();

        var record = new NpgsqlBatchCommand(IssuanceSql.RecordBatch)
            .With(winners.Select(w => w.PolicyId).ToArray())
            .With(winners.Select(w => w.UserId).ToArray())
            .With(winners.Select(w => w.RequestId).ToArray())
            .With(decidedAt)
            .With(issuedPerPolicy.Select(p => p.PolicyId).ToArray())
            .With(issuedPerPolicy.Select(p => p.Issued).ToArray())
            .With(fresh.Select(d => d.Request.RequestId).ToArray())
            .With(fresh.Select(d => d.Request.PolicyId).ToArray())
            .With(fresh.Select(d => d.Request.UserId).ToArray())
            .With(fresh.Select(d => d.Outcome.ToString()).ToArray())
            .With(fresh.Select(d => d.KnownCouponId).ToArray())
            .With(fresh.Select(d => d.Request.Partition).ToArray())
            .With(fresh.Select(d => d.Request.Offset).ToArray())
            .With(fresh.Select(d => d.Request.RequestedAt).ToArray())
            .With(fresh.Select(d => d.RemainingQuantity).ToArray());
        await using var batch = new NpgsqlBatch(connection) { BatchCommands = { record } };
        if (commit)
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand("COMMIT"));
        }

        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            couponIds.Add(reader.GetString(0), reader.GetInt64(1));
        }

        // The commit's outcome: a failure to commit is thrown here.
        while (await reader.NextResultAsync(cancellationToken))
        {
        }

        return couponIds;
    }
}
