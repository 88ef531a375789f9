using CouponAspire.Consumer.Issuance;

namespace CouponAspire.Tests.Issuance;

/// <summary>
/// A random request stream from a seed: a few policies (small quantities, some with opening windows), a small pool of
/// users who ask repeatedly, requests for an unknown policy, redeliveries of single earlier requests, and at the end a
/// replay of a whole stretch; cut into batches of random sizes.
/// </summary>
internal sealed class RandomScenario
{
    private static readonly DateTimeOffset Start = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);

    private RandomScenario(int seed)
    {
        var random = new Random(seed);
        PolicyCount = random.Next(1, 5);
        Policies = Enumerable.Range(1, PolicyCount)
            .Select(id => new ModelPolicy(
                id,
                random.Next(1, 9),
                random.Next(10) < 2 ? Start.AddSeconds(random.Next(20, 60)) : null,
                random.Next(10) < 2 ? Start.AddSeconds(random.Next(120, 200)) : null))
            .ToArray();

        var users = random.Next(2, 16);
        var stream = new List<IssuanceRequest>();
        var length = random.Next(40, 220);
        for (var offset = 0; stream.Count < length; offset++)
        {
            if (stream.Count > 0 && random.Next(10) == 0)
            {
                stream.Add(stream[random.Next(stream.Count)]);
                continue;
            }

            var policyId = random.Next(20) == 0 ? PolicyCount + 100 : random.Next(1, PolicyCount + 1);
            stream.Add(new IssuanceRequest(Guid.NewGuid().ToString(), policyId, random.Next(1, users + 1), (int)(policyId % 3), offset, Start.AddSeconds(offset)));
        }

        var replayFrom = random.Next(stream.Count);
        stream.AddRange(stream.Skip(replayFrom).Take(random.Next(1, stream.Count - replayFrom + 1)).ToArray());
        Stream = stream;

        var batches = new List<IssuanceRequest[]>();
        for (var taken = 0; taken < stream.Count;)
        {
            var size = Math.Min(random.Next(1, 41), stream.Count - taken);
            batches.Add(stream.Skip(taken).Take(size).ToArray());
            taken += size;
        }

        Batches = batches;
    }

    public int PolicyCount { get; }
    public IReadOnlyList<ModelPolicy> Policies { get; }
    public IReadOnlyList<IssuanceRequest> Stream { get; }
    public IReadOnlyList<IssuanceRequest[]> Batches { get; }

    public static RandomScenario FromSeed(int seed) => new(seed);

    /// <summary>Creates the scenario's policies; ids come out 1..n in a fresh database, as the stream expects.</summary>
    public async Task CreatePoliciesAsync(TestDatabase database)
    {
        foreach (var policy in Policies)
        {
            var created = await database.CreatePolicyAsync(policy.TotalQuantity, $"Policy {policy.Id}", policy.StartsAt, policy.EndsAt);
            created.Id.ShouldBe(policy.Id);
        }
    }
}
