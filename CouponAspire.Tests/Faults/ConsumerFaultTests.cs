
namespace CouponAspire.Tests.Faults;

/// <summary>Consumers dying, coming and going while requests pour in.</summary>
public sealed class ConsumerFaultTests(PostgresFixture postgres)
{
    [Fact]
    public async Task A_consumer_process_killed_mid_batch_and_replaced_loses_and_duplicates_nothing()
    {
        await using var system = await CouponSystem.StartAsync(postgres, partitions: 6, consumers: 0);
        long[] policies = [await system.CreatePolicyAsync(300), await system.CreatePolicyAsync(80)];
        await using var doomed = system.StartConsumerProcess("consumer-a");
        await using var survivor = system.StartConsumerProcess("consumer-b");

        var sale = FlashSale.RunAsync(system, policies, count: 5000, users: 2000, concurrency: 16, seed: 5, cancellationToken: TestContext.Current.CancellationToken);
        await Task.Delay(2500, TestContext.Current.CancellationToken);
        doomed.KillHard();
        await Task.Delay(1000, TestContext.Current.CancellationToken);
        await using var replacement = system.StartConsumerProcess("consumer-c");
        var result = await sale;

        doomed.HasExited.ShouldBeTrue();
        await Invariants.AssertAllHoldAsync(system, result.Accepted, TimeSpan.FromSeconds(120));
    }

    [Fact]
    public async Task Consumers_added_and_removed_again_and_again_under_load_change_no_outcome()
    {
        await using var system = await CouponSystem.StartAsync(postgres, partitions: 6, consumers: 2);
        long[] policies = [await system.CreatePolicyAsync(250), await system.CreatePolicyAsync(40), await system.CreatePolicyAsync(600)];

        var sale = FlashSale.RunAsync(system, policies, count: 6000, users: 2500, concurrency: 12, seed: 9, cancellationToken: TestContext.Current.CancellationToken);
        for (var round = 0; round < 5; round++)
        {
            await Task.Delay(400, TestContext.Current.CancellationToken);
            system.AddConsumer();
            await Task.Delay(400, TestContext.Current.CancellationToken);
            await system.StopConsumerAsync(system.Consumers[0]);
        }

        var result = await sale;

        system.Consumers.Count.ShouldBe(2);
        await Invariants.AssertAllHoldAsync(system, result.Accepted, TimeSpan.FromSeconds(120));
    }

    [Fact]
    public async Task A_flood_of_one_users_duplicates_takes_one_coupon_and_everyone_else_is_still_served_in_order()
    {
        await using var system = await CouponSystem.StartAsync(postgres, partitions: 3, consumers: 1);
        var policy = await system.CreatePolicyAsync(100);

        // User 1 (past any rate limit, as if through many API instances) asks 2,000 times amid 300 other users.
        var flood = Enumerable.Range(0, 2000).Select(_ => 1L);
        var crowd = Enumerable.Range(2, 300).Select(u => (long)u);
        var asks = flood.Concat(crowd).OrderBy(_ => Random.Shared.Next()).ToArray();
        var accepted = new List<AcceptedRequest>();
        await Parallel.ForEachAsync(asks, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (user, _) =>
        {
            if (await system.RequestAsync(policy, user) is { } id)
            {
                lock (accepted)
                {
                    accepted.Add(new AcceptedRequest(id, policy, user));
                }
            }
        });

        await Invariants.AssertAllHoldAsync(system, accepted, TimeSpan.FromSeconds(60));
        (await system.Database.ScalarAsync<long>("SELECT count(*) FROM coupons WHERE user_id = 1")).ShouldBe(1);
        (await system.Database.ScalarAsync<long>("SELECT count(*) FROM request_outcomes WHERE user_id = 1 AND outcome = 'AlreadyIssued'"))
            .ShouldBe(accepted.Count(a => a.UserId == 1) - 1);
    }
}
