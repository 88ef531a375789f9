namespace CouponAspire.Tests.Infrastructure;

/// <summary>A request the API accepted (202).</summary>
public sealed record AcceptedRequest(Guid RequestId, long PolicyId, long UserId);

/// <summary>A crowd asking for coupons at once, through the API, and what the API answered.</summary>
public static class FlashSale
{
    /// <summary>
    /// <paramref name="count"/> requests spread over <paramref name="policyIds"/> from <paramref name="users"/> distinct
    /// users (so most users ask more than once), sent <paramref name="concurrency"/> at a time.
    /// </summary>
    public static async Task<(List<AcceptedRequest> Accepted, int Refused)> RunAsync(
        CouponSystem system, IReadOnlyList<long> policyIds, int count, int users, int concurrency = 32, int seed = 1, CancellationToken cancellationToken = default)
    {
        var random = new Random(seed);
        var asks = Enumerable.Range(0, count).Select(_ => (PolicyId: policyIds[random.Next(policyIds.Count)], UserId: (long)random.Next(1, users + 1))).ToArray();
        var accepted = new List<AcceptedRequest>();
        var refused = 0;
        await Parallel.ForEachAsync(asks, new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken }, async (ask, _) =>
        {
            var requestId = await system.RequestAsync(ask.PolicyId, ask.UserId);
            lock (accepted)
            {
                if (requestId is { } id)
                {
                    accepted.Add(new AcceptedRequest(id, ask.PolicyId, ask.UserId));
                }
                else
                {
                    refused++;
                }
            }
        });
        return (accepted, refused);
    }
}
