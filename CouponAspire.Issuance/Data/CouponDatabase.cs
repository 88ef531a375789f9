using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace CouponAspire.Issuance.Data;

/// <summary>The product's PostgreSQL database: its connection name, EF Core options and migration at startup.</summary>
public static class CouponDatabase
{
    /// <summary>The connection string name (<c>ConnectionStrings:coupondb</c>), as the AppHost's database resource is named.</summary>
    public const string ConnectionName = "coupondb";

    // Any constant will do, as long as every process migrating this schema uses the same one.
    private const long MigrationLockKey = 0x436F75706F6E4442; // "CouponDB"

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
    /// Applies pending migrations. Several processes may start at once: a session-level advisory lock held on a
    /// connection of its own serializes them, and each one that follows finds nothing left to apply.
    /// </summary>
    public static async Task MigrateAsync(NpgsqlDataSource dataSource, CouponDbContext context, CancellationToken cancellationToken)
    {
        await using var lockConnection = await dataSource.OpenConnectionAsync(cancellationToken);
        await ExecuteAsync(lockConnection, "SELECT pg_advisory_lock($1)", cancellationToken);
        try
        {
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
        await using var command = new NpgsqlCommand(sql, connection) { Parameters = { new() { Value = MigrationLockKey } } };
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}

/// <summary>Lets <c>dotnet ef</c> build the context without a running application or database.</summary>
internal sealed class CouponDbContextDesignTimeFactory : IDesignTimeDbContextFactory<CouponDbContext>
{
    public CouponDbContext CreateDbContext(string[] args) =>
        CouponDatabase.CreateContext(NpgsqlDataSource.Create("Host=localhost;Database=coupondb"));
}
