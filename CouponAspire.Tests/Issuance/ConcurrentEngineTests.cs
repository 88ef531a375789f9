using CouponAspire.Consumer.Issuance;
using CouponAspire.Data;

namespace CouponAspire.Tests.Issuance;

/// <summary>
/// Two engines deciding the same partition at the same time — a consumer that lost its partitions in a rebalance
/// but has not noticed yet (a zombie) and the new owner. Each walks the stream in offset order from the start, in
/// batches of its own size, so their batches overlap everywhere.
/// </summary>
public sealed class ConcurrentEngineTests(PostgresFixture postgres)
{
    [Theory(Timeout = Timeouts.System)]
    [InlineData(IssuanceStrategy.Batched, IssuanceStrategy.Batched)]
    [InlineData(IssuanceStrategy.PerMessage, IssuanceStrategy.PerMessage)]
    [InlineData(IssuanceStrategy.Batched, IssuanceStrategy.PerMessage)]
    public async Task Overlapping_batches_decided_at_once_give_the_first_users_one_coupon_each(IssuanceStrategy zombie, IssuanceStrategy owner)
    {
        const int quantity = 150;
        await using var database = await postgres.CreateDatabaseAsync();
        var policy = await database.CreatePolicyAsync(quantity);
        var random = new Random(42);
        var stream = Enumerable.Range(0, 800)
            .Select(offset => new IssuanceRequest(Guid.NewGuid().ToString(), policy.Id, random.Next(1, 400), 0, offset, DateTimeOffset.UtcNow))
            .ToArray();

        var results = await Task.WhenAll(
            DecideInBatchesAsync(IssuanceEngineRegistration.Create(zombie, database.DataSource, TimeProvider.System), stream, 37),
            DecideInBatchesAsync(IssuanceEngineRegistration.Create(owner, database.DataSource, TimeProvider.System), stream, 101));

        // Both engines report the same outcome for every request: one decided it, the other replayed it.
        results[0].ShouldBe(results[1]);

        var winners = stream.Select(r => r.UserId).Distinct().Take(quantity).ToHashSet();
        var issuedTo = stream.Zip(results[0]).Where(p => p.Second == IssuanceOutcome.Issued).Select(p => p.First.UserId).ToArray();
        issuedTo.Length.ShouldBe(quantity);
        issuedTo.ToHashSet().SetEquals(winners).ShouldBeTrue("the winners are the first distinct users in offset order");

        (await database.ScalarAsync<long>("SELECT count(*) FROM coupons")).ShouldBe(quantity);
        (await database.ScalarAsync<long>("SELECT count(DISTINCT user_id) FROM coupons")).ShouldBe(quantity);
        (await database.ScalarAsync<int>("SELECT issued_count FROM coupon_policies")).ShouldBe(quantity);
        (await database.ScalarAsync<long>("SELECT count(*) FROM request_outcomes")).ShouldBe(stream.Length);
    }

    private static async Task<IssuanceOutcome[]> DecideInBatchesAsync(IIssuanceEngine engine, IssuanceRequest[] stream, int batchSize)
    {
        var outcomes = new List<IssuanceOutcome>(stream.Length);
        foreach (var batch in stream.Chunk(batchSize))
        {
            var decisions = await engine.DecideAsync(batch, TestContext.Current.CancellationToken);
            outcomes.AddRange(decisions.Select(d => d.Outcome));
        }

        return outcomes.ToArray();
    }
}
