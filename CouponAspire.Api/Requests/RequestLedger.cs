using System.Threading.Channels;
using CouponAspire.Contracts.Events;
using Npgsql;

namespace CouponAspire.Api.Requests;

/// <summary>
/// The API's writes about requests to PostgreSQL. Receipts (so that an accepted request reads as Pending until decided) go
/// through one writer loop that inserts whatever has queued up in one statement — a group commit, so that a stampede
/// costs a few inserts per millisecond rather than one per request. Withdrawals are rare and immediate.
/// </summary>
internal sealed partial class RequestLedger(NpgsqlDataSource dataSource, TimeProvider time, ILogger<RequestLedger> logger) : BackgroundService
{
    private const int MaxBatch = 1000;
    private static readonly TimeSpan Gather = TimeSpan.FromMilliseconds(1);

    private readonly Channel<(CouponRequested Request, TaskCompletionSource Written)> _receipts =
        Channel.CreateUnbounded<(CouponRequested, TaskCompletionSource)>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>Writes the request's receipt (a row of <c>request_receipts</c>); completes when it is committed.</summary>
    public Task RecordReceiptAsync(CouponRequested request)
    {
        var written = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return _receipts.Writer.TryWrite((request, written))
            ? written.Task
            : Task.FromException(new InvalidOperationException("The service is stopping."));
    }

    /// <summary>
    /// Voids a request the broker may have written although the publish failed, so that it is never decided. Returns
    /// null when it is now void, or the outcome it already had when a consumer decided it first.
    /// </summary>
    public async Task<IssuanceOutcome?> WithdrawAsync(CouponRequested request, CancellationToken cancellationToken)
    {
        await using var withdraw = dataSource.CreateCommand("""
            INSERT INTO request_outcomes (request_id, policy_id, user_id, outcome, requested_at, decided_at)
            VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (request_id) DO NOTHING
            """)
            .With(request.RequestId)
            .With(request.PolicyId)
            .With(request.UserId)
            .With(nameof(IssuanceOutcome.Withdrawn))
            .With(request.RequestedAt)
            .With(time.GetUtcNow());
        if (await withdraw.ExecuteNonQueryAsync(cancellationToken) == 1)
        {
            return null;
        }

        // A consumer got there first; this statement sees its committed row.
        await using var read = dataSource.CreateCommand("SELECT outcome FROM request_outcomes WHERE request_id = $1").With(request.RequestId);
        return Enum.Parse<IssuanceOutcome>((string)(await read.ExecuteScalarAsync(cancellationToken))!);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // Requests still in flight were drained by the server before this; write what they queued, then stop.
        _receipts.Writer.TryComplete();
        await base.StopAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<(CouponRequested Request, TaskCompletionSource Written)>(MaxBatch);
        while (await _receipts.Reader.WaitToReadAsync(CancellationToken.None))
        {
            // Let a batch gather: the publish that runs meanwhile takes longer than this, so no request waits for it.
            await Task.Delay(Gather);
            while (batch.Count < MaxBatch && _receipts.Reader.TryRead(out var item))
            {
                batch.Add(item);
            }

            try
            {
                await InsertAsync(batch);
                batch.ForEach(b => b.Written.TrySetResult());
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                LogReceiptsFailed(e, batch.Count);
                batch.ForEach(b => b.Written.TrySetException(e));
            }

            batch.Clear();
        }
    }

    private async Task InsertAsync(List<(CouponRequested Request, TaskCompletionSource Written)> batch)
    {
        var ids = new Guid[batch.Count];
        var policies = new long[batch.Count];
        var users = new long[batch.Count];
        var requestedAt = new DateTimeOffset[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            (ids[i], policies[i], users[i], requestedAt[i]) = (batch[i].Request.RequestId, batch[i].Request.PolicyId, batch[i].Request.UserId, batch[i].Request.RequestedAt);
        }

        // A receipt only lets an accepted request read as Pending before its decision: it need not outlive a crash of
        // PostgreSQL (one lost reads as not found until decided, as one that could not be written does), so its commit
        // does not wait for the WAL to reach the disk. It is visible to every reader as soon as it is committed.
        await using var write = dataSource.CreateBatch();
        write.BatchCommands.Add(new NpgsqlBatchCommand("SET LOCAL synchronous_commit = off"));
        write.BatchCommands.Add(new NpgsqlBatchCommand("""
            INSERT INTO request_receipts (request_id, policy_id, user_id, requested_at)
            SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::bigint[], $4::timestamptz[])
            ON CONFLICT (request_id) DO NOTHING
            """).With(ids).With(policies).With(users).With(requestedAt));
        await write.ExecuteNonQueryAsync();
    }

    [LoggerMessage(LogLevel.Warning, "Could not write {Count} request receipt(s); those requests read as not found until decided")]
    private partial void LogReceiptsFailed(Exception exception, int count);
}
