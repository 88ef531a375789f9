using System.Diagnostics;
using CouponAspire.Data;
using Npgsql;

namespace CouponAspire.MigrationService;

/// <summary>
/// Brings the schema up to date, then stops the process: exit code 0 when the database is current, 1 when it could not
/// be migrated. Waits for PostgreSQL while it cannot be reached (it may start before its database is ready).
/// </summary>
internal sealed partial class DatabaseMigrator(
    IServiceScopeFactory scopes, NpgsqlDataSource dataSource, IHostApplicationLifetime lifetime, IHostEnvironment environment, ILogger<DatabaseMigrator> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var source = new ActivitySource(environment.ApplicationName);
        using var activity = source.StartActivity("Migrating the database");
        try
        {
            await MigrateAsync(stoppingToken);
            LogMigrated();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            activity?.AddException(e).SetStatus(ActivityStatusCode.Error);
            LogFailed(e);
            Environment.ExitCode = 1;
        }

        lifetime.StopApplication();
    }

    private async Task MigrateAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                await CouponDatabase.MigrateAsync(dataSource, scope.ServiceProvider.GetRequiredService<CouponDbContext>(), cancellationToken);
                return;
            }
            catch (NpgsqlException e) when (e.IsTransient && attempt < 30)
            {
                var delay = TimeSpan.FromSeconds(Math.Min(attempt, 5));
                LogDatabaseUnavailable(e, delay);
                await Task.Delay(delay, cancellationToken);
            }
        }
    }

    [LoggerMessage(LogLevel.Information, "The database schema is current")]
    private partial void LogMigrated();

    [LoggerMessage(LogLevel.Critical, "The database could not be migrated")]
    private partial void LogFailed(Exception exception);

    [LoggerMessage(LogLevel.Warning, "PostgreSQL is not reachable yet; migrating again in {Delay}")]
    private partial void LogDatabaseUnavailable(Exception exception, TimeSpan delay);
}
