using System.Globalization;
using CouponAspire.LocalInfrastructure;

namespace CouponAspire.Benchmarks;

/// <param name="Consumers">Consumer processes in the group.</param>
/// <param name="Partitions">Partitions of <c>coupon-events</c> and <c>coupon-decisions</c>.</param>
/// <param name="Folder">Where the system's address and credentials go, as the AppHost writes them to <c>.couponaspire/</c>.</param>
/// <param name="Otlp">An OTLP endpoint to export every service's telemetry to (a standalone dashboard, a collector); none by default.</param>
/// <param name="Environment">The services' environment: the AppHost runs them in Development.</param>
/// <param name="RuntimeDefaults">Run with the runtime's defaults rather than the small machine's settings the AppHost's local run gives.</param>
internal sealed record HandRunSettings(int Consumers, int Partitions, string Folder, string? Otlp, string Environment, bool RuntimeDefaults, IReadOnlyList<string> Settings);

/// <summary>
/// The system the AppHost runs without containers, started by hand instead: a PostgreSQL server of its own from the
/// machine's binaries (durable, as the AppHost's), librdkafka's mock cluster in a process of its own (CouponAspire.LocalKafka),
/// the migration worker, then the API and the consumers as processes with the settings the AppHost gives them — and no
/// orchestrator, no dashboard, no export unless asked. What it writes to its folder is what the AppHost writes to
/// <c>.couponaspire/</c>, so the same scripts and the load generator drive either. Runs until stopped.
/// </summary>
internal static class HandRunSystem
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(2);

    public static async Task<int> RunAsync(HandRunSettings settings, CancellationToken cancellationToken)
    {
        var logs = Directory.CreateDirectory(Path.Combine(settings.Folder, "logs")).FullName;
        var processes = new List<ServiceProcess>();
        await using var postgres = await TemporaryPostgresServer.StartNewAsync(durable: true, cancellationToken: cancellationToken);
        try
        {
            var database = await LocalDatabases.CreateAsync(postgres.ConnectionString(), "coupondb", cancellationToken: cancellationToken);

            var kafkaPort = LocalPorts.Free();
            var kafka = Start(processes, logs, "kafka-mock", Built("CouponAspire.LocalKafka"), new Dictionary<string, string?>
            {
                ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{kafkaPort}",
                ["CouponEvents:Partitions"] = settings.Partitions.ToString(CultureInfo.InvariantCulture),
            });
            await kafka.WaitUntilHealthyAsync(new Uri($"http://127.0.0.1:{kafkaPort}/health"), StartTimeout, cancellationToken);
            using var http = new HttpClient();
            var bootstrapServers = await http.GetStringAsync(new Uri($"http://127.0.0.1:{kafkaPort}/bootstrap-servers"), cancellationToken);

            var tokens = new DevelopmentTokens(DevelopmentTokens.NewSigningKey());
            var common = ServiceSettings.For(bootstrapServers, database, tokens, settings.Partitions);
            common["ASPNETCORE_ENVIRONMENT"] = settings.Environment;
            common["DOTNET_ENVIRONMENT"] = settings.Environment;
            common["Telemetry:TracesPerSecond"] = "10";
            if (!settings.RuntimeDefaults)
            {
                foreach (var (name, value) in SmallMachine.RuntimeSettings)
                {
                    common[name] = value;
                }
            }

            if (settings.Otlp is { } otlp)
            {
                common["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlp;
            }

            var ofService = new Dictionary<string, Dictionary<string, string?>>();
            foreach (var setting in settings.Settings)
            {
                var (key, value) = setting.Split('=', 2) is [var k, var v] ? (k, v) : throw new ArgumentException($"A setting is [service/]key=value: {setting}");
                if (key.Split('/', 2) is [var service, var serviceKey])
                {
                    (ofService.TryGetValue(service, out var own) ? own : ofService[service] = [])[serviceKey] = value;
                }
                else
                {
                    common[key] = value;
                }
            }

            Dictionary<string, string?> With(string service, string? urls = null)
            {
                var environment = new Dictionary<string, string?>(common) { ["OTEL_SERVICE_NAME"] = service };
                if (!settings.RuntimeDefaults && service is "api" or "consumer")
                {
                    foreach (var (name, value) in SmallMachine.ServingSettings)
                    {
                        environment[name] = value;
                    }
                }

                foreach (var (key, value) in ofService.GetValueOrDefault(service) ?? [])
                {
                    environment[key] = value;
                }

                if (urls is not null)
                {
                    environment["ASPNETCORE_URLS"] = urls;
                }

                return environment;
            }

            var migrations = Start(processes, logs, "migrations", Built("CouponAspire.MigrationService"), With("migrations"));
            await migrations.WaitForExitAsync(cancellationToken);
            if (migrations.ExitCode != 0)
            {
                throw new BenchmarkFailedException($"The migration worker failed (exit code {migrations.ExitCode}); see {logs}.");
            }

            var apiPort = LocalPorts.Free();
            var api = Start(processes, logs, "api", Built("CouponAspire.Api"), With("api", $"http://127.0.0.1:{apiPort}"));
            var consumers = Enumerable.Range(1, settings.Consumers)
                .Select(i => (Port: LocalPorts.Free(), Name: $"consumer-{i}"))
                .Select(c => (c.Port, Process: Start(processes, logs, c.Name, Built("CouponAspire.Consumer"), With("consumer", $"http://127.0.0.1:{c.Port}"))))
                .ToList();
            await api.WaitUntilHealthyAsync(new Uri($"http://127.0.0.1:{apiPort}/health"), StartTimeout, cancellationToken);
            foreach (var (port, consumer) in consumers)
            {
                await consumer.WaitUntilHealthyAsync(new Uri($"http://127.0.0.1:{port}/health"), StartTimeout, cancellationToken);
            }

            var apiUrl = new Uri($"http://127.0.0.1:{apiPort}");
            DevelopmentCredentials.Write(settings.Folder, apiUrl, bootstrapServers, database, tokens.SigningKey, tokens.ForAdmin(TimeSpan.FromDays(1)));
            Console.WriteLine($"The system is ready, by hand: the API at {apiUrl}, {settings.Consumers} consumer(s), Kafka at {bootstrapServers}; credentials in {settings.Folder}, logs in {logs}.");
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return 0;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return 0;
        }
        finally
        {
            // The consumers first, so that they leave the group while Kafka is there; the cluster last.
            foreach (var process in Enumerable.Reverse(processes))
            {
                await process.DisposeAsync();
            }
        }
    }

    /// <summary>A service's own build output, of the configuration this tool was built in: run there, it finds every dependency it was built with.</summary>
    private static string Built(string project)
    {
        var own = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var repository = own.Parent!.Parent!.Parent!.Parent!.FullName;
        return Path.Combine(repository, project, "bin", own.Parent.Name, own.Name, project + ".dll");
    }

    private static ServiceProcess Start(List<ServiceProcess> processes, string logs, string name, string assembly, IReadOnlyDictionary<string, string?> environment)
    {
        var log = new StreamWriter(Path.Combine(logs, name + ".log")) { AutoFlush = true };
        var process = ServiceProcess.Start(name, assembly, environment, line =>
        {
            lock (log)
            {
                log.WriteLine(line);
            }
        });
        processes.Add(process);
        return process;
    }
}
