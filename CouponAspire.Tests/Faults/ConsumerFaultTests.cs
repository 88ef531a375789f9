using CouponAspire.Contracts.Events;
using CouponAspire.LocalInfrastructure;

namespace CouponAspire.Tests.Faults;

/// <summary>Consumers dying, coming and going while requests pour in.</summary>
[Collection(FaultCollection.Name)]
public sealed class ConsumerFaultTests(PostgresFixture postgres)
{
    [Fact(Timeout = Timeouts.Fault)]
    public async Task A_consumer_process_killed_while_its_partitions_hold_undecided_requests_and_replaced_loses_and_duplicates_nothing()
    {
        await using var system = await CouponSystem.StartAsync(postgres, partitions: 6, consumers: 0);
        long[] selling = [await system.CreatePolicyAsync(300), await system.CreatePolicyAsync(80)];
        long[] neverSoldOut = [await system.CreatePolicyAsync(5000), await system.CreatePolicyAsync(5000), await system.CreatePolicyAsync(5000), await system.CreatePolicyAsync(5000)];
        // The doomed member commits its offsets only when its partitions move, never on a timer: killed, it leaves all it
        // decided since uncommitted, as a crash between the database commit and the offset commit does, and its
        // successor reads those requests again.
        await using var doomed = system.StartConsumerProcess("doomed", new Dictionary<string, string?>
        {
            ["Aspire:Confluent:Kafka:Consumer:Config:AutoCommitIntervalMs"] = "3600000",
        });
        await using var survivor = system.StartConsumerProcess("survivor");
        ServiceProcess? replacement = null;
        var drill = new FaultDrill(system, [.. selling, .. neverSoldOut], users: 2000);
        HashSet<int> doomedPartitions = [];
        var mark = 0;
        long undecidedAtKill = 0;

        try
        {
            var result = await drill.RunAsync(
                // Both members hold partitions, decisions are under way (the doomed one's among them), and requests keep
                // coming to the doomed one's partitions.
                injectWhen: async moment =>
                {
                    doomedPartitions = system.Log.Assignment("doomed");
                    if (moment.Decided < 300 || doomedPartitions.Count == 0 || system.Log.Assignment("survivor").Count == 0 || system.Log.Batches("doomed") == 0)
                    {
                        return false;
                    }

                    var fed = await system.Database.ListAsync<int>(
                        "SELECT DISTINCT kafka_partition FROM request_outcomes WHERE policy_id = ANY($1)", neverSoldOut);
                    return fed.Any(doomedPartitions.Contains);
                },
                // Frozen first, so that requests wait undecided on its partitions, then killed where it stands.
                inject: async _ =>
                {
                    mark = system.Log.Mark;
                    doomed.Freeze();
                    await Eventually.UntilAsync(
                        async () => await UndecidedAsync(system, doomedPartitions) > 0,
                        "requests to wait on the frozen member's partitions",
                        FaultDrill.Patience);
                    undecidedAtKill = await UndecidedAsync(system, doomedPartitions);
                    doomed.KillHard();
                },
                struck: "the survivor to take over the killed member's partitions and read again what it had decided",
                hasStruck: () => Task.FromResult(system.Log.Assignment("survivor").IsSupersetOf(doomedPartitions) && system.Log.Replayed(mark) > 0),
                heal: () =>
                {
                    replacement = system.StartConsumerProcess("replacement");
                    return Task.CompletedTask;
                });

            // The drill's waits held the rest: 300 decided, and requests it had decided redelivered to the survivor, which
            // answered them from their stored outcomes. Counted where the kill struck (not where the drill chose its
            // moment, when the consumers may have caught up with every request).
            result.Injected.Decided.ShouldBeGreaterThanOrEqualTo(300);
            undecidedAtKill.ShouldBeGreaterThan(0, "the kill met requests logged on its partitions and not yet decided");
        }
        finally
        {
            if (replacement is not null)
            {
                await replacement.DisposeAsync();
            }
        }
    }

    [Fact(Timeout = Timeouts.Fault)]
    public async Task Consumers_added_and_removed_again_and_again_while_requests_are_decided_change_no_outcome()
    {
        await using var system = await CouponSystem.StartAsync(postgres, partitions: 6, consumers: 2);
        long[] policies = [await system.CreatePolicyAsync(250), await system.CreatePolicyAsync(40), await system.CreatePolicyAsync(5000)];
        var progress = new SaleProgress();
        // Every move of partitions has their new owner read again, and publish again, what was decided since the last
        // commit the mock cluster took (it refuses commits while the group rejoins): at a pace that keeps the drill's
        // partitions within what the mock cluster keeps of each (5 MB) while the rounds take as long as a busy machine
        // makes them.
        var sale = FlashSale.RunAsync(system, policies, count: null, users: 3000, concurrency: 12, seed: 9, progress, perSecond: 200);

        // Each round: at a moment with accepted requests undecided, a member joins and gets partitions, the oldest
        // leaves, and decisions go on through both changes.
        for (var round = 1; round <= 4; round++)
        {
            long decided = 0;
            await Eventually.UntilAsync(
                async () => (decided = await DecidedAsync(system)) < progress.Accepted,
                $"round {round}: a moment with accepted requests undecided",
                FaultDrill.Patience);
            var mark = system.Log.Mark;
            var joined = system.AddConsumer();
            await Eventually.UntilAsync(
                async () => system.Log.Assignment(joined.Name).Count > 0 && await DecidedAsync(system) >= decided + 100,
                $"round {round}: {joined.Name} to get partitions while decisions go on",
                FaultDrill.Patience);
            var leaving = system.Consumers[0];
            var beforeLeaving = await DecidedAsync(system);
            await system.StopConsumerAsync(leaving);
            await Eventually.UntilAsync(
                async () => await DecidedAsync(system) >= beforeLeaving + 100,
                $"round {round}: decisions to go on after {leaving.Name} left",
                FaultDrill.Patience);
            system.Log.PartitionChanges("revoked", mark).ShouldBeGreaterThan(0, $"round {round} moved partitions");
        }

        progress.Stop();
        var result = await sale;

        system.Consumers.Count.ShouldBe(2);
        await Invariants.AssertAllHoldAsync(system, result.Accepted, FaultDrill.Patience);
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{system.Log.PartitionChanges("revoked")} partition(s) revoked, {system.Log.Replayed()} redelivered request(s) answered from their stored outcome; {result.Accepted.Count} accepted.");
    }

    [Fact(Timeout = Timeouts.Fault)]
    public async Task A_flood_of_one_users_duplicates_takes_one_coupon_and_everyone_else_is_still_served_in_order()
    {
        await using var system = await CouponSystem.StartAsync(postgres, partitions: 3, consumers: 1);
        var policy = await system.CreatePolicyAsync(100);

        // User 1 (past any rate limit, as if through many API instances) asks 2,000 times amid 300 other users.
        var random = new Random(4);
        var asks = Enumerable.Repeat(1L, 2000).Concat(Enumerable.Range(2, 300).Select(u => (long)u)).OrderBy(_ => random.Next()).ToArray();
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

    private static Task<long> DecidedAsync(CouponSystem system) => system.Database.ScalarAsync<long>("SELECT count(*) FROM request_outcomes");

    /// <summary>Requests in these partitions of the log that have no outcome yet.</summary>
    private static async Task<long> UndecidedAsync(CouponSystem system, IEnumerable<int> partitions)
    {
        long undecided = 0;
        foreach (var partition in partitions)
        {
            var logged = KafkaLog.End(system.Kafka.BootstrapServers, CouponTopics.Requests, partition);
            var decided = await system.Database.ScalarAsync<long>("SELECT count(*) FROM request_outcomes WHERE kafka_partition = $1", partition);
            undecided += logged - decided;
        }

        return undecided;
    }
}
