using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// PostgreSQL registered the way Aspire.Npgsql and Aspire.Npgsql.EntityFrameworkCore.PostgreSQL do (which cannot be
/// restored here): the connection string from <c>ConnectionStrings:{name}</c>, one <see cref="NpgsqlDataSource"/>
/// (pool) shared by raw SQL and EF Core, a health check, and Npgsql's tracing and metrics (registered with
/// OpenTelemetry by <see cref="Extensions.ConfigureOpenTelemetry{TBuilder}"/>).
/// </summary>
public static class NpgsqlExtensions
{
    public static IHostApplicationBuilder AddNpgsqlDataSource(this IHostApplicationBuilder builder, string connectionName)
    {
        var connectionString = builder.Configuration.GetConnectionString(connectionName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException(
                $"No PostgreSQL connection string configured: set ConnectionStrings:{connectionName} (for example Host=localhost;Database={connectionName};Username=postgres).");
        }

        builder.Services.AddNpgsqlDataSource(connectionString, dataSource =>
        {
            // The hot statements run thousands of times a second: let Npgsql prepare them, unless configured otherwise.
            if (dataSource.ConnectionStringBuilder.MaxAutoPrepare == 0)
            {
                dataSource.ConnectionStringBuilder.MaxAutoPrepare = 32;
            }
        });
        return builder;
    }

    /// <summary>A pooled <typeparamref name="TContext"/> on the registered data source, and a health check named after it.</summary>
    public static IHostApplicationBuilder AddNpgsqlDbContext<TContext>(this IHostApplicationBuilder builder, Action<DbContextOptionsBuilder, NpgsqlDataSource> configure)
        where TContext : DbContext
    {
        builder.Services.AddDbContextPool<TContext>((services, options) => configure(options, services.GetRequiredService<NpgsqlDataSource>()));
        builder.Services.AddHealthChecks().AddDbContextCheck<TContext>(typeof(TContext).Name);
        return builder;
    }
}
