using CouponAspire.Data;

namespace CouponAspire.Consumer.Issuance;

/// <summary>How the consumer turns requests into outcomes; both give identical outcomes.</summary>
public enum IssuanceStrategy
{
    /// <summary>Set-based: a constant number of round trips per batch, whatever its size.</summary>
    Batched,

    /// <summary>The seed's algorithm: one transaction per request (exists check, conditional update, insert).</summary>
    PerMessage,
}

/// <summary>One issue request as read from its partition.</summary>
public sealed record IssuanceRequest(
    string RequestId,
    long PolicyId,
    long UserId,
    int Partition,
    long Offset,
    DateTimeOffset RequestedAt);

/// <summary>The outcome of one request of a batch, as it is stored and published.</summary>
/// <param name="CouponId">The coupon won, or for <see cref="IssuanceOutcome.AlreadyIssued"/> the one already held.</param>
/// <param name="Replayed">True when the outcome was recorded before (a redelivery) and is returned unchanged.</param>
/// <param name="DecidedAt">When it was committed (the first time, for a replayed one).</param>
/// <param name="RemainingQuantity">The policy's quantity left after it; null when the policy does not exist.</param>
public sealed record IssuanceDecision(string RequestId, IssuanceOutcome Outcome, long? CouponId, bool Replayed, DateTimeOffset DecidedAt, int? RemainingQuantity);

/// <summary>Records exactly one outcome per request, in one transaction per call.</summary>
public interface IIssuanceEngine : IAsyncDisposable
{
    IssuanceStrategy Strategy { get; }

    /// <summary>
    /// Decides an ordered batch (each policy's requests in partition offset order) and returns one decision per
    /// request, in the same order. Safe to call concurrently with overlapping batches, and again with the same batch.
    /// </summary>
    Task<IReadOnlyList<IssuanceDecision>> DecideAsync(IReadOnlyList<IssuanceRequest> batch, CancellationToken cancellationToken);

    /// <summary>
    /// Runs the statements that read what a decision needs, for requests that cannot exist, in a transaction that is
    /// rolled back: nothing is written, but a connection is open and this process's code for a batch of
    /// <paramref name="batchSize"/> is ready for the first sale.
    /// </summary>
    Task WarmUpAsync(int batchSize, CancellationToken cancellationToken);
}

/// <summary>What a warm-up reads: requests of policy 0, which cannot exist (policy ids are positive).</summary>
internal static class WarmUpRequest
{
    public const string RequestId = "warm-up";

    public static IssuanceRequest[] Batch(int size)
    {
        var now = DateTimeOffset.UtcNow;
        var batch = new IssuanceRequest[Math.Max(1, size)];
        for (var i = 0; i < batch.Length; i++)
        {
            batch[i] = new IssuanceRequest($"{RequestId}-{i + 1}", PolicyId: 0, UserId: i + 1, Partition: 0, Offset: i, now);
        }

        return batch;
    }
}
