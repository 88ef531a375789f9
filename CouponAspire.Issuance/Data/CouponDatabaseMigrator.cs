using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace CouponAspire.Issuance.Data;

/// <summary>
/// Brings the schema up to date before anything else of the service starts. Waits for PostgreSQL while it cannot be
/// reached (a service may start before its database); any other failure stops the service.
/// </summary>
public sealed partial class CouponDatabaseMigrator(IServiceScopeFactory scopes, NpgsqlDataSource dataSource, ILogger<CouponDatabaseMigrator> logger)
    : IHostedLifecycleService
{
    async Task IHostedLifecycleService.StartingAsync(CancellationToken cancellationToken)
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

    Task IHostedService.StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedLifecycleService.StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedLifecycleService.StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedService.StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedLifecycleService.StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(LogLevel.Warning, "PostgreSQL is not reachable yet; migrating again in {Delay}")]
    private partial void LogDatabaseUnavailable(Exception exception, TimeSpan delay);
}
