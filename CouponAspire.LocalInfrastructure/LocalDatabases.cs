using Npgsql;

namespace CouponAspire.LocalInfrastructure;

/// <summary>Creating and dropping databases on a PostgreSQL server, for the tests, the benchmarks and the AppHost.</summary>
public static class LocalDatabases
{
    /// <summary>Creates <paramref name="name"/>, a copy of <paramref name="template"/> when given; returns its connection string.</summary>
    public static async Task<string> CreateAsync(string serverConnectionString, string name, string? template = null, CancellationToken cancellationToken = default)
    {
        await ExecuteAsync(serverConnectionString, $"CREATE DATABASE {Quote(name)}{(template is null ? "" : $" TEMPLATE {Quote(template)}")}", cancellationToken);
        return WithDatabase(serverConnectionString, name);
    }

    /// <summary>Creates <paramref name="name"/> unless it exists; returns its connection string.</summary>
    public static async Task<string> EnsureAsync(string serverConnectionString, string name, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(serverConnectionString, cancellationToken);
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", connection) { Parameters = { new() { Value = name } } };
        if (await exists.ExecuteScalarAsync(cancellationToken) is null)
        {
            await using var create = new NpgsqlCommand($"CREATE DATABASE {Quote(name)}", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        return WithDatabase(serverConnectionString, name);
    }

    /// <summary>Drops <paramref name="name"/> if it exists, closing whatever connections it still has.</summary>
    public static Task DropAsync(string serverConnectionString, string name, CancellationToken cancellationToken = default) =>
        ExecuteAsync(serverConnectionString, $"DROP DATABASE IF EXISTS {Quote(name)} WITH (FORCE)", cancellationToken);

    public static string WithDatabase(string connectionString, string database) =>
        new NpgsqlConnectionStringBuilder(connectionString) { Database = database }.ConnectionString;

    private static async Task ExecuteAsync(string serverConnectionString, string sql, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(serverConnectionString, cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>A connection to the server's <c>postgres</c> database, outside any pool (a database being dropped must have none).</summary>
    private static async Task<NpgsqlConnection> OpenAsync(string serverConnectionString, CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(serverConnectionString) { Database = "postgres", Pooling = false }.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    private static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
