using CouponAspire.Issuance.Data;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace CouponAspire.Tests.Infrastructure;

/// <summary>One test's database: a connection string, a data source, contexts, and a few readings of its state.</summary>
public sealed class TestDatabase(string name, string connectionString, Func<Task> drop) : IAsyncDisposable
{
    public string Name { get; } = name;
    public string ConnectionString { get; } = connectionString;
    public NpgsqlDataSource DataSource { get; } = NpgsqlDataSource.Create(connectionString);

    public CouponDbContext NewContext() => CouponDatabase.CreateContext(DataSource);

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
        await using var command = DataSource.CreateCommand(sql);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        return (T)(await command.ExecuteScalarAsync())!;
    }

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync();
        await drop();
    }
}
