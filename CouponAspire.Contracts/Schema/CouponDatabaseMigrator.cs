using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace CouponAspire.Contracts.Schema;

/// <summary>
/// Brings the schema up to date before anything else of the service starts. Waits for PostgreSQL while it cannot be
/// reached (a service may start before its database); any other failure stops the service.
/// </summary>
public sealed partial class CouponDatabaseMigrator(IServiceScopeFactory scopes, NpgsqlDataSource dataSource, ILogger<CouponDatabaseMigrator> logger)
    : StartupTask
{
    protected override async Task RunAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var context = scope.ServiceProvider.GetRequiredService<CouponDbContext>();
                await CouponDatabase.MigrateAsync(dataSource, context, cancellationToken);
                return;
            }
            catch (NpgsqlException e) when (e.IsTransient && !cancellationToken.IsCancellationRequested)
            {
                var delay = TimeSpan.FromSeconds(Math.Min(attempt, 5));
                LogDatabaseUnavailable(e, delay);
                await Task.Delay(delay, cancellationToken);
            }
        }
    }

    [LoggerMessage(LogLevel.Warning, "PostgreSQL is not reachable yet; migrating again in {Delay}")]
    private partial void LogDatabaseUnavailable(Exception exception, TimeSpan delay);
}
