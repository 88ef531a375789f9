
namespace CouponAspire.Tests.Infrastructure;

/// <summary>A request the API accepted (202).</summary>
public sealed record AcceptedRequest(Guid RequestId, long PolicyId, long UserId);

/// <summary>What the API answered a crowd: the requests it accepted, and how many it answered otherwise, by status.</summary>
public sealed record FlashSaleResult(List<AcceptedRequest> Accepted, Dictionary<HttpStatusCode, int> Others)
{
    public int Refused => Others.GetValueOrDefault(HttpStatusCode.Conflict);
}

/// <summary>A crowd asking for coupons at once, through the API.</summary>
public static class FlashSale
{
    /// <summary>
    /// <paramref name="count"/> requests spread over <paramref name="policyIds"/> from <paramref name="users"/> distinct
    /// users (so most users ask more than once), sent <paramref name="concurrency"/> at a time. Any answer but 202,
    /// 409 (refused by the gate) and 503 (broker unavailable) fails the test.
    /// </summary>
    public static Task<FlashSaleResult> RunAsync(
        CouponSystem system, IReadOnlyList<long> policyIds, int count, int users, int concurrency = 32, int seed = 1, CancellationToken cancellationToken = default) =>
        RunAsync(system.TryRequestAsync, policyIds, count, users, concurrency, seed, cancellationToken);

    /// <param name="ask">Asks for a coupon of a policy for a user: the answer's status, and the request id when it was 202.</param>
    public static async Task<FlashSaleResult> RunAsync(
        Func<long, long, Task<(HttpStatusCode Status, Guid? RequestId)>> ask,
        IReadOnlyList<long> policyIds,
        int count,
        int users,
        int concurrency = 32,
        int seed = 1,
        CancellationToken cancellationToken = default)
    {
        var random = new Random(seed);
        var asks = Enumerable.Range(0, count).Select(_ => (PolicyId: policyIds[random.Next(policyIds.Count)], UserId: (long)random.Next(1, users + 1))).ToArray();
        var result = new FlashSaleResult([], []);
        await Parallel.ForEachAsync(asks, new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken }, async (request, _) =>
        {
            var (status, requestId) = await ask(request.PolicyId, request.UserId);
            status.ShouldBeOneOf(HttpStatusCode.Accepted, HttpStatusCode.Conflict, HttpStatusCode.ServiceUnavailable);
            lock (result)
            {
                if (requestId is { } id)
                {
                    result.Accepted.Add(new AcceptedRequest(id, request.PolicyId, request.UserId));
                }
                else
                {
                    result.Others[status] = result.Others.GetValueOrDefault(status) + 1;
                }
            }
        });
        return result;
    }
}
