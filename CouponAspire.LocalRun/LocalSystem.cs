using System.Globalization;
using CouponAspire.LocalInfrastructure;
using Npgsql;

namespace CouponAspire.LocalRun;

internal sealed record LocalRunSettings(int Consumers, int Partitions, int ApiPort, string Strategy, string? Kafka, string? Postgres, string LogLevel);

/// <summary>
/// Starts PostgreSQL and Kafka (or uses the given ones), then the API and the consumers as processes configured only
/// through the keys the AppHost would set, prints where everything is, and stops it all on Ctrl+C.
/// </summary>
internal static class LocalSystem
{
    private const string Topic = "coupon-events";
    private static readonly TimeSpan GroupFormingDelay = TimeSpan.FromSeconds(3);

    public static async Task<int> RunAsync(LocalRunSettings settings, CancellationToken cancellationToken)
    {
        var services = new List<ServiceProcess>();
        TemporaryPostgresServer? postgresServer = null;
        MockKafkaCluster? mockKafka = null;
        try
        {
            string serverConnection;
            if (settings.Postgres is null)
            {
                Say("Starting PostgreSQL from the local binaries (a throwaway server, deleted on exit)...");
                postgresServer = await TemporaryPostgresServer.StartNewAsync(durable: true, cancellationToken: cancellationToken);
                serverConnection = postgresServer.ConnectionString();
            }
            else
            {
                serverConnection = settings.Postgres;
            }

            var database = await EnsureDatabaseAsync(serverConnection, "coupondb", cancellationToken);

            string bootstrap;
            if (settings.Kafka is null)
            {
                // As a broker's group.initial.rebalance.delay.ms: the consumers, started together, form the group in one
                // generation instead of rebalancing partitions away from the first one while a sale may already be on.
                mockKafka = MockKafkaCluster.Start(brokers: 3, initialRebalanceDelay: GroupFormingDelay);
                mockKafka.CreateTopic(Topic, settings.Partitions);
                mockKafka.CreateTopic($"{Topic}.dlq", 1);
                bootstrap = mockKafka.BootstrapServers;
            }
            else
            {
                bootstrap = settings.Kafka;
            }

            var tokens = new DevelopmentTokens(DevelopmentTokens.NewSigningKey());
            var common = new Dictionary<string, string?>(tokens.ApiSettings().Concat(mockKafka is null ? [] : MockKafkaCluster.ConsumerSettings(fetchWaitMaxMs: 10)))
            {
                ["ASPNETCORE_ENVIRONMENT"] = "Development",
                ["ConnectionStrings:kafka"] = bootstrap,
                ["ConnectionStrings:coupondb"] = database,
                ["CouponEvents:Partitions"] = settings.Partitions.ToString(CultureInfo.InvariantCulture),
                ["Issuance:Strategy"] = settings.Strategy,
                ["Logging:LogLevel:Default"] = settings.LogLevel,
            };

            var apiUrl = new Uri($"http://127.0.0.1:{settings.ApiPort}");
            var api = ServiceProcess.Start("api", AssemblyPath("ApiAssembly"), With(common, ("ASPNETCORE_URLS", apiUrl.ToString()), ("OTEL_SERVICE_NAME", "api")), Console.WriteLine);
            services.Add(api);
            var consumers = new List<(ServiceProcess Process, Uri Url)>();
            for (var i = 1; i <= settings.Consumers; i++)
            {
                var url = new Uri($"http://127.0.0.1:{LocalPorts.Free()}");
                var consumer = ServiceProcess.Start(
                    $"consumer-{i}",
                    AssemblyPath("ConsumerAssembly"),
                    With(common, ("ASPNETCORE_URLS", url.ToString()), ("OTEL_SERVICE_NAME", "consumer"), ("OTEL_RESOURCE_ATTRIBUTES", $"service.instance.id=consumer-{i}")),
                    Console.WriteLine);
                services.Add(consumer);
                consumers.Add((consumer, url));
            }

            await api.WaitUntilHealthyAsync(new Uri(apiUrl, "/health"), TimeSpan.FromSeconds(60), cancellationToken);
            foreach (var (consumer, url) in consumers)
            {
                await consumer.WaitUntilHealthyAsync(new Uri(url, "/health"), TimeSpan.FromSeconds(60), cancellationToken);
            }

            if (mockKafka is not null && settings.Consumers > 0)
            {
                // Healthy is not yet in the group: give the group the time it takes to form before saying "ready".
                await Task.Delay(GroupFormingDelay + TimeSpan.FromSeconds(2), cancellationToken);
            }

            var admin = tokens.ForAdmin(TimeSpan.FromDays(1));
            var stateDirectory = LocalRunState.Directory();
            LocalRunState.Write(stateDirectory, apiUrl, tokens.SigningKey, admin);
            PrintSummary(settings, apiUrl, consumers.Select(c => c.Url).ToList(), bootstrap, mockKafka is not null, database, postgresServer is not null, tokens, stateDirectory);

            await Task.Delay(Timeout.Infinite, cancellationToken);
            return 0;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return 0;
        }
        finally
        {
            Say("Stopping...");
            // The API first (no new requests), then the consumers (they finish their batch and leave the group).
            foreach (var service in services)
            {
                await service.DisposeAsync();
            }

            mockKafka?.Dispose();
            if (postgresServer is not null)
            {
                await postgresServer.DisposeAsync();
            }
        }
    }

    private static async Task<string> EnsureDatabaseAsync(string serverConnection, string name, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(serverConnection);
        await connection.OpenAsync(cancellationToken);
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", connection) { Parameters = { new() { Value = name } } };
        if (await exists.ExecuteScalarAsync(cancellationToken) is null)
        {
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        return new NpgsqlConnectionStringBuilder(serverConnection) { Database = name }.ConnectionString;
    }

    private static void PrintSummary(
        LocalRunSettings settings, Uri apiUrl, List<Uri> consumerUrls, string bootstrap, bool mockKafka, string database, bool throwawayPostgres, DevelopmentTokens tokens, string stateDirectory)
    {
        var api = apiUrl.ToString().TrimEnd('/');
        Console.WriteLine($"""

            ======================================================================
             CouponAspire is running without Docker
               API          {api}   (API reference: {api}/scalar, OpenAPI: {api}/openapi/v1.json)
               Consumers    {settings.Consumers} process(es) in group coupon-service-group: {string.Join(", ", consumerUrls.Select(u => u + "health"))}
               Kafka        {bootstrap}{(mockKafka ? $" (librdkafka mock cluster in this process; {Topic}: {settings.Partitions} partitions)" : "")}
               PostgreSQL   {new NpgsqlConnectionStringBuilder(database) { Password = null }}{(throwawayPostgres ? " (throwaway)" : "")}
               Strategy     {settings.Strategy}
             Development credentials in {stateDirectory}: api-url, admin.token (role {DevelopmentTokens.AdminRole}), signing-key
             Try it:
               TOKEN=$(cat .localrun/admin.token)
               curl -s -X POST {api}/api/coupon-policies -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"{"}"name":"Launch","totalQuantity":100{"}"}'
               curl -s -X POST {api}/api/coupon-policies/1/requests -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"{"}"userId":42{"}"}'
             Flash sale:
               dotnet run -c Release --project CouponAspire.LoadGenerator -- --api {api} --signing-key {tokens.SigningKey}
             Ctrl+C stops everything.
            ======================================================================

            """);
    }

    private static Dictionary<string, string?> With(Dictionary<string, string?> common, params (string Key, string Value)[] more)
    {
        var environment = new Dictionary<string, string?>(common);
        foreach (var (key, value) in more)
        {
            environment[key] = value;
        }

        return environment;
    }

    private static string AssemblyPath(string key) => LocalPorts.ServiceAssembly(typeof(LocalSystem).Assembly, key);

    private static void Say(string message) => Console.WriteLine($"[local-run] {message}");
}
