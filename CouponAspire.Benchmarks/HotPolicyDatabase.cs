using CouponAspire.Contracts.Events;
using CouponAspire.Data;
using CouponAspire.LocalInfrastructure;
using Npgsql;

namespace CouponAspire.Benchmarks;

/// <summary>A fresh database of its own for one run: migrated, with the stream's hot policy and its warm-up's; dropped on dispose.</summary>
internal sealed class HotPolicyDatabase(string serverConnection, string name, string connectionString) : IAsyncDisposable
{
    public string ConnectionString { get; } = connectionString;
    public NpgsqlDataSource DataSource { get; } = NpgsqlDataSource.Create(connectionString);

    public static async Task<HotPolicyDatabase> CreateAsync(string serverConnection, string prefix, HotPolicyStream stream, CancellationToken cancellationToken)
    {
        var name = $"{prefix}_{Guid.NewGuid():N}";
        var database = new HotPolicyDatabase(serverConnection, name, await LocalDatabases.CreateAsync(serverConnection, name, cancellationToken: cancellationToken));
        try
        {
            await using var context = CouponDatabase.CreateContext(database.DataSource);
            await CouponDatabase.MigrateAsync(database.DataSource, context, cancellationToken);
            foreach (var (policy, label) in new[] { (stream, "Hot policy"), (stream.WarmUp, "Warm-up") })
            {
                var row = new CouponPolicy { Name = label, TotalQuantity = policy.Quantity, CreatedAt = DateTimeOffset.UtcNow };
                context.Policies.Add(row);
                await context.SaveChangesAsync(cancellationToken);
                if (row.Id != policy.Policy)
                {
                    throw new InvalidOperationException($"The {label} policy got id {row.Id}, its stream's requests are for {policy.Policy}.");
                }
            }

            // Each run starts right after a checkpoint: one that fell inside a run instead would make it write every page
            // it touched after it in full to the WAL, a cost that fell on whichever variant was running at the time.
            await using var checkpoint = database.DataSource.CreateCommand("CHECKPOINT");
            await checkpoint.ExecuteNonQueryAsync(cancellationToken);
            return database;
        }
        catch
        {
            await database.DisposeAsync();
            throw;
        }
    }

    /// <summary>The recorded outcome of every request of the stream, in stream order.</summary>
    public async Task<IssuanceOutcome[]> OutcomesAsync(HotPolicyStream stream, CancellationToken cancellationToken)
    {
        await using var command = DataSource.CreateCommand("SELECT request_id, outcome FROM request_outcomes");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var byRequest = new Dictionary<string, IssuanceOutcome>(stream.Requests.Count);
        while (await reader.ReadAsync(cancellationToken))
        {
            byRequest[reader.GetString(0)] = Enum.Parse<IssuanceOutcome>(reader.GetString(1));
        }

        return [.. stream.Requests.Select(r => byRequest[r.RequestId])];
    }

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        await LocalDatabases.DropAsync(serverConnection, name);
    }
}
