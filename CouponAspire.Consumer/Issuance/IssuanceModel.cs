using CouponAspire.Contracts.Schema;

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

/// <summary>The outcome of one request of a batch.</summary>
/// <param name="CouponId">The coupon won, or for <see cref="IssuanceOutcome.AlreadyIssued"/> the one already held.</param>
/// <param name="Replayed">True when the outcome was recorded before (a redelivery) and is returned unchanged.</param>
public sealed record IssuanceDecision(string RequestId, IssuanceOutcome Outcome, long? CouponId, bool Replayed);

/// <summary>Records exactly one outcome per request, in one transaction per call.</summary>
public interface IIssuanceEngine
{
    IssuanceStrategy Strategy { get; }

    /// <summary>
    /// Decides an ordered batch (each policy's requests in partition offset order) and returns one decision per
    /// request, in the same order. Safe to call concurrently with overlapping batches, and again with the same batch.
    /// </summary>
    Task<IReadOnlyList<IssuanceDecision>> DecideAsync(IReadOnlyList<IssuanceRequest> batch, CancellationToken cancellationToken);

    /// <summary>
    /// Runs every statement of a decision in a transaction that is rolled back: nothing is written, but the connection,
    /// the server's caches and this process's code are ready for the first real batch (the first sale after a start
    /// would otherwise pay for all of it). <paramref name="batchSize"/> is the largest batch the caller will decide: the
    /// warm-up decides one that large, so that the code for large statements and results is ready too.
    /// </summary>
    Task WarmUpAsync(int batchSize, CancellationToken cancellationToken);
}

/// <summary>What a warm-up decides, never written: requests of a policy that cannot exist, or of one it makes up.</summary>
internal static class WarmUpRequest
{
    public const string RequestId = "warm-up";

    public static IssuanceRequest Create() => new(RequestId, PolicyId: 0, UserId: 0, Partition: 0, Offset: 0, DateTimeOffset.UtcNow);

    /// <summary>For a policy of one coupon, <paramref name="size"/> requests (at least three): a winner, the winner again, then users too late.</summary>
    public static IssuanceRequest[] Sale(long policyId, int size)
    {
        var now = DateTimeOffset.UtcNow;
        var sale = new IssuanceRequest[Math.Max(3, size)];
        for (var i = 0; i < sale.Length; i++)
        {
            sale[i] = new IssuanceRequest($"{RequestId}{policyId}-{i + 1}", policyId, UserId: Math.Max(1, i), Partition: 0, Offset: i, now);
        }

        return sale;
    }
}
