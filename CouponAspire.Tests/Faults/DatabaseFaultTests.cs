using CouponAspire.Contracts.Events;
using CouponAspire.LocalInfrastructure;
using Npgsql;

namespace CouponAspire.Tests.Faults;

/// <summary>PostgreSQL going away or crawling while requests pour in.</summary>
public sealed class DatabaseFaultTests(PostgresFixture postgres)
{
    [Fact]
    public async Task PostgreSQL_refusing_connections_for_seconds_pauses_the_consumers_and_skips_nothing()
    {
        // A server of this test's own: stopping the shared one would break the tests running beside it. Durable, as in
        // production: the outage is a crash (immediate shutdown), and a commit the consumer was told about must survive it.
        await using var server = await TemporaryPostgresServer.StartNewAsync(durable: true, cancellationToken: TestContext.Current.CancellationToken);
        var database = new TestDatabase(
            await LocalDatabases.CreateAsync(server.ConnectionString(), "coupondb", cancellationToken: TestContext.Current.CancellationToken), () => Task.CompletedTask);
        await using var system = await CouponSystem.StartAsync(postgres, partitions: 6, consumers: 2, database: database);
        long[] policies = [await system.CreatePolicyAsync(300), await system.CreatePolicyAsync(60)];

        var sale = FlashSale.RunAsync(system, policies, count: 4000, users: 1500, concurrency: 16, seed: 21, cancellationToken: TestContext.Current.CancellationToken);
        await Task.Delay(1000, TestContext.Current.CancellationToken);
        await server.StopAsync(immediate: true, TestContext.Current.CancellationToken);
        NpgsqlConnection.ClearAllPools();
        var healthDuringOutage = await system.Consumers[0].CreateClient().GetAsync("/health", TestContext.Current.CancellationToken);
        await Task.Delay(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        await server.StartAsync(TestContext.Current.CancellationToken);
        var result = await sale;

        healthDuringOutage.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable, "a consumer without its database is not ready");
        await Invariants.AssertAllHoldAsync(system, result.Accepted, TimeSpan.FromSeconds(120));
    }

    [Fact]
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
        var result = await FlashSale.RunAsync(system, policies, count: 200, users: 80, concurrency: 8, seed: 41, cancellationToken: TestContext.Current.CancellationToken);
        await Task.Delay(TimeSpan.FromSeconds(3), TestContext.Current.CancellationToken);

        (await system.Database.ScalarAsync<long>("SELECT count(*) FROM request_outcomes")).ShouldBe(0);
        KafkaLog.End(system.Kafka.BootstrapServers, CouponTopics.DeadLetters, 0).ShouldBe(0, "a refusal that is not about the data sets no request aside");

        await system.Database.ScalarAsync<object?>("DROP TRIGGER refuse ON request_outcomes");
        await Invariants.AssertAllHoldAsync(system, result.Accepted);
        KafkaLog.End(system.Kafka.BootstrapServers, CouponTopics.DeadLetters, 0).ShouldBe(0);
    }

    [Fact]
    public async Task A_database_holding_locks_long_enough_to_force_rebalances_changes_no_outcome()
    {
        await using var system = await CouponSystem.StartAsync(postgres, partitions: 4, consumers: 2, settings: new Dictionary<string, string?>
        {
            // A consumer stuck in one batch longer than this is put out of the group, and its partitions move while
            // it still works on them: the new owner and the old one decide the same requests at once.
            ["Aspire:Confluent:Kafka:Consumer:Config:MaxPollIntervalMs"] = "7000",
        });
        long[] policies = [await system.CreatePolicyAsync(150), await system.CreatePolicyAsync(150)];

        var sale = FlashSale.RunAsync(system, policies, count: 3000, users: 1000, concurrency: 12, seed: 31, cancellationToken: TestContext.Current.CancellationToken);
        await Task.Delay(800, TestContext.Current.CancellationToken);
        await using (var connection = await system.Database.DataSource.OpenConnectionAsync(TestContext.Current.CancellationToken))
        await using (var transaction = await connection.BeginTransactionAsync(TestContext.Current.CancellationToken))
        {
            await using var lockPolicies = new NpgsqlCommand("SELECT id FROM coupon_policies FOR UPDATE", connection, transaction);
            await lockPolicies.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
            await Task.Delay(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
            await transaction.CommitAsync(TestContext.Current.CancellationToken);
        }

        var result = await sale;

        await Invariants.AssertAllHoldAsync(system, result.Accepted, TimeSpan.FromSeconds(120));
    }
}
