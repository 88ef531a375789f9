using CouponAspire.Consumer.Issuance;

namespace CouponAspire.Benchmarks;

/// <summary>
/// A flash sale on one policy (id 1): mostly distinct users, about one request in seven a repeat click of a user who
/// asked before, and a quantity that runs out about 40 % of the way through the stream. Its <see cref="WarmUp"/> is a
/// shorter sale of the same shape on another policy (id 2), decided first by the same process, off the clock.
/// </summary>
internal sealed class HotPolicyStream
{
    public const long PolicyId = 1;
    public const long WarmUpPolicyId = 2;

    private HotPolicyStream? _warmUp;

    private HotPolicyStream(int seed, long policyId, IReadOnlyList<IssuanceRequest> requests, int quantity, int distinctUsers)
    {
        Seed = seed;
        Policy = policyId;
        Requests = requests;
        Quantity = quantity;
        DistinctUsers = distinctUsers;
    }

    /// <summary>What the stream was made from: the same count and seed make the same stream, request ids included.</summary>
    public int Seed { get; }

    /// <summary>The policy every request of the stream is for.</summary>
    public long Policy { get; }

    public IReadOnlyList<IssuanceRequest> Requests { get; }
    public int Quantity { get; }
    public int DistinctUsers { get; }

    public override string ToString() =>
        $"Stream: {Requests.Count:N0} requests for one policy of {Quantity:N0} coupons from {DistinctUsers:N0} distinct users";

    /// <summary>
    /// Six tenths as many requests for <see cref="WarmUpPolicyId"/>: long enough (seconds) that a fresh process has
    /// compiled its hot code again, optimised, and filled its pools before the stream that is measured starts. After
    /// three tenths, the consumer's background compiler was still busy in the stream's first two seconds (<c>perf</c>).
    /// </summary>
    public HotPolicyStream WarmUp => _warmUp ??= Create(Math.Max(1, Requests.Count * 6 / 10), ~Seed, WarmUpPolicyId);

    /// <summary>
    /// How long a process rests between the warm-up and the stream: its background compiler finishes what the warm-up made
    /// hot. Without it the consumer's was still busy (a third of a core, <c>/proc</c> per thread) for four seconds into
    /// the measured stream.
    /// </summary>
    public static readonly TimeSpan Settle = TimeSpan.FromSeconds(3);

    public static HotPolicyStream Create(int count, int seed, long policyId = PolicyId)
    {
        var random = new Random(seed);
        var ids = new Random(~seed);
        var users = new List<long>();
        var requests = new IssuanceRequest[count];
        var now = DateTimeOffset.UtcNow;
        for (var offset = 0; offset < count; offset++)
        {
            long userId;
            if (users.Count > 0 && random.Next(7) == 0)
            {
                userId = users[random.Next(users.Count)];
            }
            else
            {
                userId = 1_000_000 + users.Count;
                users.Add(userId);
            }

            var id = new byte[16];
            ids.NextBytes(id);
            requests[offset] = new IssuanceRequest(new Guid(id).ToString(), policyId, userId, 0, offset, now);
        }

        return new HotPolicyStream(seed, policyId, requests, Math.Max(1, users.Count * 2 / 5), users.Count);
    }
}
