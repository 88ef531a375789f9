using CouponAspire.Data;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace CouponAspire.Tests.Infrastructure;

/// <summary>One test's database: a connection string, a data source, contexts, and a few readings of its state.</summary>
public sealed class TestDatabase(string connectionString, Func<Task> drop) : IAsyncDisposable
{
    public string ConnectionString { get; } = connectionString;
    public NpgsqlDataSource DataSource { get; } = NpgsqlDataSource.Create(connectionString);

    public CouponDbContext NewContext() => CouponDatabase.CreateContext(DataSource);

    /// <summary>Applies the schema's migrations, as CouponAspire.MigrationService does before the services start.</summary>
    public async Task MigrateAsync()
    {
        await using var context = NewContext();
        await CouponDatabase.MigrateAsync(DataSource, context, TestContext.Current.CancellationToken);
    }

    public async Task<CouponPolicy> CreatePolicyAsync(int totalQuantity, string name = "Flash sale", DateTimeOffset? startsAt = null, DateTimeOffset? endsAt = null)
    {
        await using var context = NewContext();
        var policy = new CouponPolicy
        {
            Name = name,
            TotalQuantity = totalQuantity,
            StartsAt = startsAt,
            EndsAt = endsAt,
            CreatedAt = DateTimeOffset.UtcNow,
        };
        context.Policies.Add(policy);
        await context.SaveChangesAsync();
        return policy;
    }

    public async Task<T> ScalarAsync<T>(string sql, params object[] parameters)
    {
        await using var command = Command(sql, parameters);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>The first column of every row.</summary>
    public Task<List<T>> ListAsync<T>(string sql, params object[] parameters) => ListAsync(sql, row => row.GetFieldValue<T>(0), parameters);

    public async Task<List<T>> ListAsync<T>(string sql, Func<NpgsqlDataReader, T> read, params object[] parameters)
    {
        await using var command = Command(sql, parameters);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<T>();
        while (await reader.ReadAsync())
        {
            rows.Add(read(reader));
        }

        return rows;
    }

    /// <summary>
    /// A lone array of a reference type (the request ids, say) arrives here as the parameter array itself, by array
    /// covariance: it is one parameter, not one per element.
    /// </summary>
    private NpgsqlCommand Command(string sql, object[] parameters) =>
        DataSource.CreateCommand(sql).WithValues(parameters.GetType() == typeof(object[]) ? parameters : [parameters]);

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync();
        await drop();
    }
}
