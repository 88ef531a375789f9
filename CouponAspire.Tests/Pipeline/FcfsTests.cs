using CouponAspire.Contracts.Events;

namespace CouponAspire.Tests.Pipeline;

/// <summary>First come, first served, read off the partition log itself.</summary>
public sealed class FcfsTests(PostgresFixture postgres)
{
    [Fact(Timeout = Timeouts.System)]
    public async Task The_winners_of_each_policy_are_the_first_distinct_users_of_its_partition_and_a_replay_picks_the_same()
    {
        await using var system = await CouponSystem.StartAsync(postgres, partitions: 4, consumers: 2);
        long[] policies = [await system.CreatePolicyAsync(40), await system.CreatePolicyAsync(25)];

        // Few users asking many times: order matters for every winner.
        var (accepted, _) = await FlashSale.RunAsync(system, policies, count: 1500, users: 120, seed: 7);
        await Invariants.AssertAllHoldAsync(system, accepted);

        // Replay the whole log into an empty database with a new consumer group: the same winners.
        var winners = await HoldersAsync(system.Database);
        await using var replay = await postgres.CreateDatabaseAsync();
        foreach (var policy in policies)
        {
            (await replay.CreatePolicyAsync(await system.Database.ScalarAsync<int>("SELECT total_quantity FROM coupon_policies WHERE id = $1", policy))).Id.ShouldBe(policy);
        }

        await using var replayer = new ServiceFactory<CouponAspire.Consumer.Consuming.CouponConsumerOptions>(
            new Dictionary<string, string?>(system.Settings)
            {
                ["ConnectionStrings:coupondb"] = replay.ConnectionString,
                ["Aspire:Confluent:Kafka:Consumer:Config:GroupId"] = $"replay-{Guid.NewGuid():N}",
            },
            TestContext.Current.TestOutputHelper);
        _ = replayer.Services;
        var logged = system.ReadRequestLog().Count;
        await Eventually.UntilAsync(async () => await replay.ScalarAsync<long>("SELECT count(*) FROM request_outcomes") >= logged, $"the replay to decide all {logged} logged requests", TimeSpan.FromSeconds(60));

        (await HoldersAsync(replay)).ShouldBe(winners);
    }

    private static Task<List<(long PolicyId, long UserId)>> HoldersAsync(TestDatabase database) =>
        database.ListAsync("SELECT policy_id, user_id FROM coupons ORDER BY policy_id, user_id", row => (row.GetInt64(0), row.GetInt64(1)));
}
