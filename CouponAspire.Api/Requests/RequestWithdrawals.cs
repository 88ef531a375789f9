using CouponAspire.Contracts.Events;
using Npgsql;

namespace CouponAspire.Api.Requests;

/// <summary>
/// The API's one write about requests: voiding a request whose publish the broker did not confirm, so that it is never
/// decided even if the broker wrote it after all. Rare (the broker failing a publish), and off the accept path.
/// </summary>
internal sealed class RequestWithdrawals(NpgsqlDataSource dataSource, TimeProvider time)
{
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
}
