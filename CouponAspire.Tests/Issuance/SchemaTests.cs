using CouponAspire.Data;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace CouponAspire.Tests.Issuance;

/// <summary>The guarantees that live in the schema itself, whatever code writes to it.</summary>
public sealed class SchemaTests(PostgresFixture postgres)
{
    [Fact(Timeout = Timeouts.System)]
    public async Task The_database_rejects_a_second_coupon_for_the_same_user_and_policy()
    {
        await using var database = await postgres.CreateDatabaseAsync();
        var policy = await database.CreatePolicyAsync(totalQuantity: 10);
        const string insert = "INSERT INTO coupons (policy_id, user_id, request_id, issued_at) VALUES ($1, 42, $2, now())";
        await database.ScalarAsync<object>(insert + " RETURNING 1", policy.Id, Guid.NewGuid().ToString());

        var error = await Should.ThrowAsync<PostgresException>(() => database.ScalarAsync<object>(insert, policy.Id, Guid.NewGuid().ToString()));

        error.SqlState.ShouldBe(PostgresErrorCodes.UniqueViolation);
        error.ConstraintName.ShouldBe("ix_coupons_policy_id_user_id");
    }

    [Fact(Timeout = Timeouts.System)]
    public async Task The_database_rejects_an_issued_count_above_the_total_quantity()
    {
        await using var database = await postgres.CreateDatabaseAsync();
        var policy = await database.CreatePolicyAsync(totalQuantity: 2);

        var error = await Should.ThrowAsync<PostgresException>(() =>
            database.ScalarAsync<object>("UPDATE coupon_policies SET issued_count = 3 WHERE id = $1", policy.Id));

        error.SqlState.ShouldBe(PostgresErrorCodes.CheckViolation);
        error.ConstraintName.ShouldBe("ck_coupon_policies_issued_count_within_total");
    }

    [Fact(Timeout = Timeouts.System)]
    public async Task The_database_rejects_a_second_outcome_for_the_same_request()
    {
        await using var database = await postgres.CreateDatabaseAsync();
        const string insert = """
            INSERT INTO request_outcomes (request_id, policy_id, user_id, outcome, requested_at, decided_at)
            VALUES ($1, 1, 1, 'PolicyNotFound', now(), now())
            """;
        var requestId = Guid.NewGuid().ToString();
        await database.ScalarAsync<object>(insert + " RETURNING 1", requestId);

        var error = await Should.ThrowAsync<PostgresException>(() => database.ScalarAsync<object>(insert, requestId));

        error.SqlState.ShouldBe(PostgresErrorCodes.UniqueViolation);
    }

    [Fact(Timeout = Timeouts.System)]
    public async Task Several_processes_migrating_one_database_at_once_all_succeed()
    {
        await using var database = await postgres.CreateEmptyDatabaseAsync();

        await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(async () =>
        {
            // One data source each, as separate processes would have.
            await using var dataSource = NpgsqlDataSource.Create(database.ConnectionString);
            await using var context = CouponDatabase.CreateContext(dataSource);
            await CouponDatabase.MigrateAsync(dataSource, context, TestContext.Current.CancellationToken);
        })));

        // A process that migrated keeps its connections pooled; the next process must not wait for them.
        await using (var running = NpgsqlDataSource.Create(database.ConnectionString))
        await using (var next = NpgsqlDataSource.Create(database.ConnectionString))
        {
            await using (var context = CouponDatabase.CreateContext(running))
            {
                await CouponDatabase.MigrateAsync(running, context, TestContext.Current.CancellationToken);
            }

            await using var nextContext = CouponDatabase.CreateContext(next);
            await CouponDatabase.MigrateAsync(next, nextContext, TestContext.Current.CancellationToken)
                .WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        }

        await using var check = database.NewContext();
        (await check.Database.GetPendingMigrationsAsync(TestContext.Current.CancellationToken)).ShouldBeEmpty();
        (await check.Database.GetAppliedMigrationsAsync(TestContext.Current.CancellationToken)).Count().ShouldBe(check.Database.GetMigrations().Count());
    }
}
