using CouponAspire.Contracts.Events;
using CouponAspire.LocalInfrastructure;
using Npgsql;

namespace CouponAspire.Tests.Faults;

/// <summary>PostgreSQL going away, refusing the work, or holding locks while requests pour in.</summary>
[Collection(FaultCollection.Name)]
public sealed class DatabaseFaultTests(PostgresFixture postgres)
{
    [Fact(Timeout = Timeouts.Fault)]
    public async Task PostgreSQL_crashing_while_requests_are_decided_pauses_the_consumers_loses_nothing_decided_and_admission_goes_on()
    {
        // A server of this test's own: stopping the shared one would break the tests running beside it. Durable, as in
        // production: the outage is a crash (immediate shutdown), and a commit the consumer was told about must survive it.
        await using var server = await TemporaryPostgresServer.StartNewAsync(durable: true, cancellationToken: TestContext.Current.CancellationToken);
        var database = new TestDatabase(
            await LocalDatabases.CreateAsync(server.ConnectionString(), "coupondb", cancellationToken: TestContext.Current.CancellationToken), () => Task.CompletedTask);
        await database.MigrateAsync();
        await using var system = await CouponSystem.StartAsync(postgres, partitions: 6, consumers: 2, database: database);
        long[] policies = [await system.CreatePolicyAsync(60), await system.CreatePolicyAsync(5000)];
        var drill = new FaultDrill(system, policies, users: 1500);
        using var consumerHealth = system.Consumers[0].CreateClient();
        var mark = 0;
        var acceptedAtCrash = 0;
        List<(string RequestId, string Outcome, long? CouponId)> decidedBeforeCrash = [];

        await drill.RunAsync(
            injectWhen: moment => Task.FromResult(moment.Decided >= 200 && moment.Decided < moment.Accepted),
            inject: async _ =>
            {
                mark = system.Log.Mark;
                decidedBeforeCrash = await OutcomesAsync(database);
                acceptedAtCrash = drill.Sale.Accepted;
                await server.StopAsync(immediate: true, TestContext.Current.CancellationToken);
                NpgsqlConnection.ClearAllPools();
            },
            struck: "a consumer retrying a batch and reporting itself not ready, while the API goes on accepting requests",
            hasStruck: async () => system.Log.Retries(mark) > 0
                                   && drill.Sale.Accepted >= acceptedAtCrash + 100
                                   && (await consumerHealth.GetAsync("/health", TestContext.Current.CancellationToken)).StatusCode == HttpStatusCode.ServiceUnavailable,
            heal: () => server.StartAsync(TestContext.Current.CancellationToken));

        // Every 202 was decided (the drill's invariants), those answered during the outage included; and what was decided
        // before the crash is still there, unchanged.
        decidedBeforeCrash.Count.ShouldBeGreaterThanOrEqualTo(200);
        var after = (await OutcomesAsync(database)).ToDictionary(o => o.RequestId);
        decidedBeforeCrash.Where(o => !after.TryGetValue(o.RequestId, out var now) || now != o).ShouldBeEmpty("decided before the crash, lost or changed after it");
    }

    private static async Task<List<(string RequestId, string Outcome, long? CouponId)>> OutcomesAsync(TestDatabase database)
    {
        var outcomes = new List<(string, string, long?)>();
        await using var command = database.DataSource.CreateCommand("SELECT request_id, outcome, coupon_id FROM request_outcomes");
        await using var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        while (await reader.ReadAsync(TestContext.Current.CancellationToken))
        {
            outcomes.Add((reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetInt64(2)));
        }

        return outcomes;
    }

    [Fact(Timeout = Timeouts.Fault)]
    public async Task PostgreSQL_refusing_the_work_for_a_reason_other_than_the_data_pauses_the_consumers_and_dead_letters_nothing()
    {
        await using var system = await CouponSystem.StartAsync(postgres, partitions: 2, consumers: 1);
        long[] policies = [await system.CreatePolicyAsync(20)];

        // Every outcome refused as if the consumer had lost its privileges: nothing about the requests themselves is wrong.
        await system.Database.ScalarAsync<object?>("""
            CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS
            $$ BEGIN RAISE EXCEPTION 'permission denied for table request_outcomes' USING ERRCODE = 'insufficient_privilege'; END $$;
            CREATE TRIGGER refuse BEFORE INSERT ON request_outcomes FOR EACH ROW EXECUTE FUNCTION refuse();
            """);
        var mark = system.Log.Mark;
        var result = await FlashSale.RunAsync(system, policies, count: 200, users: 80, concurrency: 8, seed: 41);
        await Eventually.UntilAsync(() => system.Log.Retries(mark) >= 3, "the consumer to retry its batch three times", FaultDrill.Patience);

        (await system.Database.ScalarAsync<long>("SELECT count(*) FROM request_outcomes")).ShouldBe(0);
        KafkaLog.End(system.Kafka.BootstrapServers, CouponTopics.DeadLetters, 0).ShouldBe(0, "a refusal that is not about the data sets no request aside");

        await system.Database.ScalarAsync<object?>("DROP TRIGGER refuse ON request_outcomes");
        await Invariants.AssertAllHoldAsync(system, result.Accepted);
        KafkaLog.End(system.Kafka.BootstrapServers, CouponTopics.DeadLetters, 0).ShouldBe(0);
    }

    [Fact(Timeout = Timeouts.Fault)]
    public async Task A_database_holding_locks_until_a_rebalance_moves_the_blocked_batches_partitions_changes_no_outcome()
    {
        await using var system = await CouponSystem.StartAsync(postgres, partitions: 4, consumers: 2, settings: new Dictionary<string, string?>
        {
            // A consumer stuck in one batch longer than this is put out of the group, and its partitions move while
            // it still works on them: the new owner and the old one decide the same requests at once.
            ["Aspire:Confluent:Kafka:Consumer:Config:MaxPollIntervalMs"] = "7000",
        });
        long[] policies = [await system.CreatePolicyAsync(150), await system.CreatePolicyAsync(5000)];
        var drill = new FaultDrill(system, policies, users: 1000, concurrency: 12);
        await system.WaitForGroupAsync();
        await using var locker = await system.Database.DataSource.OpenConnectionAsync(TestContext.Current.CancellationToken);
        NpgsqlTransaction? locks = null;
        var mark = 0;

        await drill.RunAsync(
            injectWhen: moment => Task.FromResult(moment.Decided >= 200 && moment.Decided < moment.Accepted),
            inject: async _ =>
            {
                // The policy that never sells out: its partition keeps receiving requests, and only its owner is blocked.
                mark = system.Log.Mark;
                locks = await locker.BeginTransactionAsync(TestContext.Current.CancellationToken);
                await using var lockPolicy = new NpgsqlCommand("SELECT id FROM coupon_policies WHERE id = $1 FOR UPDATE", locker, locks)
                {
                    Parameters = { new() { Value = policies[1] } },
                };
                await lockPolicy.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
            },
            // The owner's batch waits on the lock, the owner misses the poll interval and is put out of the group, its
            // partitions go to the other member, and the other member's batch of the same requests waits beside it.
            struck: "partitions moved by a rebalance while the old owner's batch still waits on the lock, with the new owner's",
            hasStruck: async () =>
                system.Log.PartitionChanges("Assigned", mark) > 0
                && await system.Database.ScalarAsync<long>("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'") >= 2,
            heal: () => locks!.CommitAsync(TestContext.Current.CancellationToken));

        system.Log.Replayed(mark).ShouldBeGreaterThan(0, "the batch decided twice (by its old and its new owner) was answered from the stored outcomes");
    }
}
