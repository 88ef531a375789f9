using CouponAspire.LocalInfrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace CouponAspire.AppHost.Infrastructure;

/// <summary>
/// A PostgreSQL server run from the machine's binaries by the orchestrator, on a port it allocates (passed as
/// <c>PGPORT</c>), with a throwaway data folder: created before the first start, deleted when the AppHost stops.
/// Durable as in production (fsync and synchronous commit on), so that what is measured through it is honest.
/// Trust authentication on 127.0.0.1: it is a development server that lives as long as the AppHost.
/// </summary>
public sealed class LocalPostgresServerResource(string name, string command, string workingDirectory, string dataDirectory)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    public const string PrimaryEndpointName = "tcp";

    public string DataDirectory { get; } = dataDirectory;

    public EndpointReference PrimaryEndpoint => new(this, PrimaryEndpointName);

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"Host={PrimaryEndpoint.Property(EndpointProperty.Host)};Port={PrimaryEndpoint.Property(EndpointProperty.Port)};Username=postgres");
}

/// <summary>A database of a <see cref="LocalPostgresServerResource"/>, created once the server is ready.</summary>
public sealed class LocalPostgresDatabaseResource(string name, string databaseName, LocalPostgresServerResource parent)
    : Resource(name), IResourceWithParent<LocalPostgresServerResource>, IResourceWithConnectionString, IResourceWithWaitSupport
{
    public string DatabaseName { get; } = databaseName;

    public LocalPostgresServerResource Parent { get; } = parent;

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create($"{Parent};Database={DatabaseName}");
}

internal static class LocalPostgresBuilderExtensions
{
    /// <summary>Marks a data folder as this AppHost's, so that one left behind by an AppHost that was killed is deleted later.</summary>
    private const string OwnerFile = "couponaspire-apphost.pid";

    private const string DataFolderPrefix = "couponaspire-apphost-pg-";

    public static IResourceBuilder<LocalPostgresServerResource> AddLocalPostgres(this IDistributedApplicationBuilder builder, string name)
    {
        DeleteAbandonedDataFolders();
        var installation = PostgresInstallation.Find();
        var data = Path.Combine(Path.GetTempPath(), DataFolderPrefix + Guid.NewGuid().ToString("N")[..12]);
        var (command, arguments) = installation.ServerCommand(data, PostgresInstallation.ServerSettings(data, durable: true));

        // PostgreSQL logs to stderr, which the dashboard shows as errors: the shell points stderr at stdout and execs the
        // server, so that the orchestrator's child is still the server itself.
        var server = new LocalPostgresServerResource(name, "sh", Path.GetTempPath(), data);

        builder.Eventing.Subscribe<BeforeResourceStartedEvent>(server, async (@event, cancellationToken) =>
        {
            // A restart (the dashboard's Stop, then Start) keeps the data: only the first start creates the cluster.
            if (File.Exists(Path.Combine(data, "PG_VERSION")))
            {
                return;
            }

            var logger = @event.Services.GetRequiredService<ResourceLoggerService>().GetLogger(server);
            logger.LogInformation("Creating a throwaway PostgreSQL cluster in {DataDirectory} with {Binaries}", data, installation.BinDirectory);
            await installation.InitializeAsync(data, cancellationToken);
            await File.WriteAllTextAsync(Path.Combine(data, OwnerFile), Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), cancellationToken);
        });
        builder.Eventing.Subscribe<BeforeStartEvent>((@event, _) =>
        {
            var lifetime = @event.Services.GetRequiredService<IHostApplicationLifetime>();
            lifetime.ApplicationStopped.Register(() => DeleteDataFolder(data));
            return Task.CompletedTask;
        });

        var healthCheck = $"{name}_check";
        builder.Services.AddHealthChecks().AddAsyncCheck(healthCheck, cancellationToken =>
            CanConnectAsync(server.ConnectionStringExpression, "postgres", cancellationToken));

        return builder.AddResource(server)
            .WithArgs(["-c", "exec \"$0\" \"$@\" 2>&1", command, .. arguments])
            .WithEndpoint(name: LocalPostgresServerResource.PrimaryEndpointName, scheme: "tcp", env: "PGPORT", isProxied: false)
            .WithIconName("DatabaseMultiple")
            .WithHealthCheck(healthCheck)
            .ExcludeFromManifest();
    }

    public static IResourceBuilder<LocalPostgresDatabaseResource> AddDatabase(
        this IResourceBuilder<LocalPostgresServerResource> server, string name, string? databaseName = null)
    {
        var builder = server.ApplicationBuilder;
        var database = new LocalPostgresDatabaseResource(name, databaseName ?? name, server.Resource);

        // The server's child, but not its state: the orchestrator runs the server only, so the database says itself
        // when it is there.
        builder.Eventing.Subscribe<ResourceReadyEvent>(server.Resource, async (@event, cancellationToken) =>
        {
            var notifications = @event.Services.GetRequiredService<ResourceNotificationService>();
            await LocalDatabases.EnsureAsync((await server.Resource.ConnectionStringExpression.GetValueAsync(cancellationToken))!, database.DatabaseName, cancellationToken);
            await notifications.PublishUpdateAsync(database, state => state with
            {
                State = KnownResourceStates.Running,
                StartTimeStamp = state.StartTimeStamp ?? DateTime.UtcNow,
            });
            await builder.Eventing.PublishAsync(new ConnectionStringAvailableEvent(database, @event.Services), cancellationToken);
        });

        var healthCheck = $"{name}_check";
        builder.Services.AddHealthChecks().AddAsyncCheck(healthCheck, cancellationToken =>
            CanConnectAsync(database.ConnectionStringExpression, null, cancellationToken));

        return builder.AddResource(database)
            .WithInitialState(new CustomResourceSnapshot
            {
                ResourceType = "PostgresDatabase",
                State = KnownResourceStates.Waiting,
                Properties = [new("postgres.database", database.DatabaseName)],
            })
            .WithIconName("Database")
            .WithHealthCheck(healthCheck)
            .ExcludeFromManifest();
    }

    private static async Task<HealthCheckResult> CanConnectAsync(ReferenceExpression connectionStringExpression, string? database, CancellationToken cancellationToken)
    {
        var connectionString = await connectionStringExpression.GetValueAsync(cancellationToken);
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, Timeout = 3 };
        if (database is not null)
        {
            builder.Database = database;
        }

        try
        {
            await using var connection = new NpgsqlConnection(builder.ConnectionString);
            await connection.OpenAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (NpgsqlException e)
        {
            return HealthCheckResult.Unhealthy("PostgreSQL does not accept connections.", e);
        }
    }

    /// <summary>Waits for the server to have gone (it removes its pid file as it exits), then deletes its data.</summary>
    private static void DeleteDataFolder(string data)
    {
        for (var waited = 0; waited < 150 && File.Exists(Path.Combine(data, "postmaster.pid")); waited++)
        {
            Thread.Sleep(100);
        }

        TryDelete(data);
    }

    private static void DeleteAbandonedDataFolders()
    {
        foreach (var folder in Directory.EnumerateDirectories(Path.GetTempPath(), DataFolderPrefix + "*"))
        {
            var owner = Path.Combine(folder, OwnerFile);
            if (!File.Exists(owner) || !int.TryParse(File.ReadAllText(owner), out var pid) || ProcessIsAlive(pid))
            {
                continue;
            }

            TryDelete(folder);
        }
    }

    private static bool ProcessIsAlive(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static void TryDelete(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left for the next AppHost to delete.
        }
    }
}
