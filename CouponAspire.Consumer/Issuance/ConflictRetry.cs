using Npgsql;

namespace CouponAspire.Consumer.Issuance;

/// <summary>
/// Reruns a decision transaction that lost a race to another engine (a zombie consumer after a rebalance, or the
/// API withdrawing a request). The losing transaction rolled back whole, so the rerun sees the winner's rows and
/// replays them. Anything else is left to the caller.
/// </summary>
internal static class ConflictRetry
{
    private const int MaxAttempts = 8;

    public static bool IsConflict(Exception exception) => exception is PostgresException
    {
        SqlState: PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure,
    };

    public static async Task<T> RunAsync<T>(Func<CancellationToken, Task<T>> transaction, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await transaction(cancellationToken);
            }
            catch (Exception e) when (IsConflict(e) && attempt < MaxAttempts)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 5 * attempt)), cancellationToken);
            }
        }
    }
}
