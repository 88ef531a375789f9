using CouponAspire.Data;
using CouponAspire.LocalInfrastructure;
using Microsoft.EntityFrameworkCore;
using Npgsql;

[assembly: AssemblyFixture(typeof(CouponAspire.Tests.Infrastructure.PostgresFixture))]

namespace CouponAspire.Tests.Infrastructure;

/// <summary>
/// The PostgreSQL server of the test run: the one named by <see cref="ConnectionVariable"/> (a connection string of
/// a role that may create databases), or else a throwaway server started from the locally installed binaries.
/// Every test gets a database of its own, cloned from a migrated template.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    public const string ConnectionVariable = "COUPONASPIRE_TEST_POSTGRES";

    private readonly string _template = $"coupon_template_{Environment.ProcessId}";
    private TemporaryPostgresServer? _server;
    private string _serverConnectionString = "";

    public async ValueTask InitializeAsync()
    {
        if (Environment.GetEnvironmentVariable(ConnectionVariable) is { Length: > 0 } given)
        {
            _serverConnectionString = given;
        }
        else
        {
            _server = await TemporaryPostgresServer.StartNewAsync();
            _serverConnectionString = _server.ConnectionString();
        }

        var templateConnection = await LocalDatabases.CreateAsync(_serverConnectionString, _template);
        await using (var dataSource = NpgsqlDataSource.Create(templateConnection))
        await using (var context = CouponDatabase.CreateContext(dataSource))
        {
            await CouponDatabase.MigrateAsync(dataSource, context, CancellationToken.None);
        }

        // A template must have no connections when it is copied.
        NpgsqlConnection.ClearAllPools();
    }

    /// <summary>A new, migrated, empty database for one test; dropped on dispose.</summary>
    public Task<TestDatabase> CreateDatabaseAsync() => CreateAsync("t", _template);

    /// <summary>A database with no schema, for testing migrations themselves.</summary>
    public Task<TestDatabase> CreateEmptyDatabaseAsync() => CreateAsync("e", null);

    private async Task<TestDatabase> CreateAsync(string prefix, string? template)
    {
        var name = $"{prefix}_{Guid.NewGuid():N}";
        return new TestDatabase(await LocalDatabases.CreateAsync(_serverConnectionString, name, template), () => LocalDatabases.DropAsync(_serverConnectionString, name));
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
        else
        {
            await LocalDatabases.DropAsync(_serverConnectionString, _template);
        }
    }
}
