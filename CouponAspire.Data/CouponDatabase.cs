using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace CouponAspire.Data;

/// <summary>The product's PostgreSQL database: its connection name, how the services register it, and migrating it.</summary>
public static class CouponDatabase
{
    /// <summary>The connection string name (<c>ConnectionStrings:coupondb</c>), as the AppHost's database resource is named.</summary>
    public const string ConnectionName = "coupondb";

    // Any constant will do, as long as every process migrating this schema uses the same one.
    private const long MigrationLockKey = 0x436F75706F6E4442; // "CouponDB"

    /// <summary>
    /// The database as both services use it, through the Aspire client integrations: one <see cref="NpgsqlDataSource"/>
    /// (Aspire.Npgsql: <c>ConnectionStrings:coupondb</c>, settings under <c>Aspire:Npgsql</c>, a health check, tracing
    /// and metrics) shared by the hot paths' SQL and a pooled <see cref="CouponDbContext"/> on it
    /// (Aspire.Npgsql.EntityFrameworkCore.PostgreSQL's enrichment).
    /// </summary>
    public static IHostApplicationBuilder AddCouponDatabase(this IHostApplicationBuilder builder)
    {
        builder.AddNpgsqlDataSource(ConnectionName, configureDataSourceBuilder: dataSource =>
        {
            // The hot statements run thousands of times a second: let Npgsql prepare them, unless configured otherwise.
            if (dataSource.ConnectionStringBuilder.MaxAutoPrepare == 0)
            {
                dataSource.ConnectionStringBuilder.MaxAutoPrepare = 32;
            }

            // Nothing here leaves state on a session (no SET, LISTEN or temporary tables; the migration's advisory lock is
            // released before its connection goes back), so a pooled connection needs no reset before its next use:
            // without this, every batch the consumer decides costs seven more statements and a transaction of their own.
            dataSource.ConnectionStringBuilder.NoResetOnClose = true;

            // Statements are traced as part of the traced work that runs them (a request, a batch). Background loops (the
            // sold-out gate's refresh, migrations) and untraced requests (health probes) would
            // otherwise fill the dashboard with a trace per query.
            dataSource.ConfigureTracing(tracing => tracing
                .ConfigureCommandFilter(_ => Activity.Current is { Recorded: true })
                .ConfigureBatchFilter(_ => Activity.Current is { Recorded: true }));
        });
        builder.Services.AddDbContextPool<CouponDbContext>((services, options) => options.UseCouponSchema(services.GetRequiredService<NpgsqlDataSource>()));
        builder.EnrichNpgsqlDbContext<CouponDbContext>(settings =>
        {
            // No retrying execution strategy: each caller already knows what to do when PostgreSQL is away — the API
            // answers 503 at once, the consumer reads its batch again, the migrator waits — and EF's strategy would
            // refuse user transactions and hold requests for half a minute.
            settings.DisableRetry = true;
            // The data source's check already says whether the database answers.
            settings.DisableHealthChecks = true;
        });
        return builder;
    }

    public static DbContextOptionsBuilder UseCouponSchema(this DbContextOptionsBuilder options, NpgsqlDataSource dataSource) =>
        options.UseNpgsql(dataSource).UseSnakeCaseNamingConvention();

    /// <summary>A context outside dependency injection (tools, tests, benchmarks).</summary>
    public static CouponDbContext CreateContext(NpgsqlDataSource dataSource)
    {
        var options = new DbContextOptionsBuilder<CouponDbContext>();
        options.UseCouponSchema(dataSource);
        return new CouponDbContext(options.Options);
    }

    /// <summary>
    /// Applies pending migrations (CouponAspire.MigrationService, the tests' and benchmarks' databases). Should two run at
    /// once, a session-level advisory lock held on a connection of its own serializes them, and the one that follows
    /// finds nothing left to apply.
    /// </summary>
    public static async Task MigrateAsync(NpgsqlDataSource dataSource, CouponDbContext context, CancellationToken cancellationToken)
    {
        await using var lockConnection = await dataSource.OpenConnectionAsync(cancellationToken);
        await ExecuteAsync(lockConnection, "SELECT pg_advisory_lock($1)", cancellationToken);
        try
        {
            // On an empty database EF Core would first query a history table that is not there yet, and log that query's
            // failure as an error; created beforehand (if missing), there is nothing to fail.
            await context.GetService<IHistoryRepository>().CreateIfNotExistsAsync(cancellationToken);

            // EF Core logs each migration it applies; none when the schema is current.
            await context.Database.MigrateAsync(cancellationToken);
        }
        finally
        {
            // A pooled connection outlives this call, and the lock with it, unless released here.
            await ExecuteAsync(lockConnection, "SELECT pg_advisory_unlock($1)", CancellationToken.None);
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection).With(MigrationLockKey);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}

/// <summary>Lets <c>dotnet ef</c> build the context without a running application or database.</summary>
internal sealed class CouponDbContextDesignTimeFactory : IDesignTimeDbContextFactory<CouponDbContext>
{
    public CouponDbContext CreateDbContext(string[] args) =>
        CouponDatabase.CreateContext(NpgsqlDataSource.Create("Host=localhost;Database=coupondb"));
}
