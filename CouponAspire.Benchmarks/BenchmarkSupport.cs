using CouponAspire.Issuance.Data;
using Npgsql;

namespace CouponAspire.Benchmarks;

internal static class Statistics
{
    public static double Median(IReadOnlyCollection<double> values) => Percentile(values, 0.5);

    /// <summary>Linear interpolation between the closest ranks; 0 for no values.</summary>
    public static double Percentile(IReadOnlyCollection<double> values, double fraction)
    {
        if (values.Count == 0)
        {
            return 0;
        }

        var sorted = values.Order().ToArray();
        var rank = fraction * (sorted.Length - 1);
        var lower = (int)Math.Floor(rank);
        var upper = (int)Math.Ceiling(rank);
        return sorted[lower] + (sorted[upper] - sorted[lower]) * (rank - lower);
    }
}

/// <summary>A fresh database of its own for one run: migrated, with the stream's hot policy (id 1); dropped on dispose.</summary>
internal sealed class HotPolicyDatabase : IAsyncDisposable
{
    private readonly string _serverConnection;
    private readonly string _name;

    private HotPolicyDatabase(string serverConnection, string name)
    {
        _serverConnection = serverConnection;
        _name = name;
        ConnectionString = new NpgsqlConnectionStringBuilder(serverConnection) { Database = name }.ConnectionString;
        DataSource = NpgsqlDataSource.Create(ConnectionString);
    }

    public string ConnectionString { get; }
    public NpgsqlDataSource DataSource { get; }

    public static async Task<HotPolicyDatabase> CreateAsync(string serverConnection, string prefix, HotPolicyStream stream, CancellationToken cancellationToken)
    {
        var name = $"{prefix}_{Guid.NewGuid():N}";
        await ExecuteAsync(serverConnection, $"CREATE DATABASE \"{name}\"", cancellationToken);
        var database = new HotPolicyDatabase(serverConnection, name);
        try
        {
            await using var context = CouponDatabase.CreateContext(database.DataSource);
            await CouponDatabase.MigrateAsync(database.DataSource, context, cancellationToken);
            context.Policies.Add(new CouponPolicy { Name = "Hot policy", TotalQuantity = stream.Quantity, CreatedAt = DateTimeOffset.UtcNow });
            await context.SaveChangesAsync(cancellationToken);
            return database;
        }
        catch
        {
            await database.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        await ExecuteAsync(_serverConnection, $"DROP DATABASE IF EXISTS \"{_name}\" WITH (FORCE)", CancellationToken.None);
    }

    private static async Task ExecuteAsync(string connectionString, string sql, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
