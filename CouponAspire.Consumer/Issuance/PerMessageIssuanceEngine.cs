using CouponAspire.Data;
using Npgsql;

namespace CouponAspire.Consumer.Issuance;

/// <summary>
/// The seed's algorithm, kept as the readable reference and the baseline: one transaction per request —
/// recorded already? policy open? coupon already held (the exists check)? then the conditional
/// <c>UPDATE … WHERE issued_count &lt; total_quantity</c> and the coupon insert. A concurrent engine that gets
/// there first makes the unique indexes fail this transaction, which then reruns and replays the winner's outcome.
/// </summary>
internal sealed class PerMessageIssuanceEngine(NpgsqlDataSource dataSource, TimeProvider timeProvider) : IIssuanceEngine
{
    public IssuanceStrategy Strategy => IssuanceStrategy.PerMessage;

    /// <summary>Nothing to release: each request's connection goes back to the pool as soon as it is decided.</summary>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    public async Task<IReadOnlyList<IssuanceDecision>> DecideAsync(IReadOnlyList<IssuanceRequest> batch, CancellationToken cancellationToken)
    {
        var decisions = new IssuanceDecision[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            decisions[i] = await ConflictRetry.RunAsync(ct => DecideOneAsync(batch[i], ct), cancellationToken);
        }

        return decisions;
    }

    public async Task WarmUpAsync(int batchSize, CancellationToken cancellationToken)
    {
        var request = WarmUpRequest.Batch(1)[0];
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await ExecuteScalarAsync(connection, IssuanceSql.StoredOutcome, cancellationToken, request.RequestId);
        await ExecuteScalarAsync(connection, IssuanceSql.Policy, cancellationToken, request.PolicyId);
        await ExecuteScalarAsync(connection, IssuanceSql.HeldCoupon, cancellationToken, request.PolicyId, request.UserId);
        await transaction.RollbackAsync(cancellationToken);
    }

    private async Task<IssuanceDecision> DecideOneAsync(IssuanceRequest request, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        await using (var command = new NpgsqlCommand(IssuanceSql.StoredOutcome, connection).With(request.RequestId))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            if (await reader.ReadAsync(cancellationToken))
            {
                return new IssuanceDecision(
                    request.RequestId,
                    Enum.Parse<IssuanceOutcome>(reader.GetString(0)),
                    reader.IsDBNull(1) ? null : reader.GetInt64(1),
                    Replayed: true,
                    reader.GetFieldValue<DateTimeOffset>(2),
                    reader.IsDBNull(3) ? null : reader.GetInt32(3));
            }
        }

        var (outcome, couponId, remaining) = await DecideNewAsync(connection, request, cancellationToken);
        var decidedAt = EventTime.Truncate(timeProvider.GetUtcNow());
        await ExecuteAsync(
            connection,
            IssuanceSql.InsertOutcome,
            cancellationToken,
            request.RequestId,
            request.PolicyId,
            request.UserId,
            outcome.ToString(),
            couponId,
            request.Partition,
            request.Offset,
            request.RequestedAt,
            decidedAt,
            remaining);
        await transaction.CommitAsync(cancellationToken);

        return new IssuanceDecision(request.RequestId, outcome, couponId, Replayed: false, decidedAt, remaining);
    }

    private async Task<(IssuanceOutcome Outcome, long? CouponId, int? Remaining)> DecideNewAsync(
        NpgsqlConnection connection, IssuanceRequest request, CancellationToken cancellationToken)
    {
        PolicySnapshot policy;
        await using (var command = new NpgsqlCommand(IssuanceSql.Policy, connection).With(request.PolicyId))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken))
            {
                return (IssuanceOutcome.PolicyNotFound, null, null);
            }

            policy = PolicySnapshot.Read(reader);
        }

        if (!policy.IsOpenAt(request.RequestedAt))
        {
            return (IssuanceOutcome.PolicyNotOpen, null, policy.RemainingQuantity);
        }

        var heldCouponId = await ExecuteScalarAsync(connection, IssuanceSql.HeldCoupon, cancellationToken, request.PolicyId, request.UserId);
        if (heldCouponId is long held)
        {
            return (IssuanceOutcome.AlreadyIssued, held, policy.RemainingQuantity);
        }

        if (await ExecuteScalarAsync(connection, IssuanceSql.TryIncrementIssuedCount, cancellationToken, request.PolicyId) is not int remaining)
        {
            return (IssuanceOutcome.SoldOut, null, 0);
        }

        var couponId = (long)(await ExecuteScalarAsync(
            connection, IssuanceSql.InsertCoupon, cancellationToken, request.PolicyId, request.UserId, request.RequestId, timeProvider.GetUtcNow()))!;
        return (IssuanceOutcome.Issued, couponId, remaining);
    }

    private static async Task<object?> ExecuteScalarAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken, params object?[] values)
    {
        await using var command = new NpgsqlCommand(sql, connection).WithValues(values);
        return await command.ExecuteScalarAsync(cancellationToken);
    }

    private static async Task<int> ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken, params object?[] values)
    {
        await using var command = new NpgsqlCommand(sql, connection).WithValues(values);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
