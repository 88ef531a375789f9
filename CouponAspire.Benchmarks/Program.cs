using System.CommandLine;
using CouponAspire.Benchmarks;
using CouponAspire.Consumer.Consuming;
using CouponAspire.Consumer.Issuance;

var requests = RequestsOption();
var perMessageRequests = PerMessageRequestsOption();
var batchSize = new Option<int>("--batch-size") { Description = "Requests per batch handed to the engine (the consumer's maximum batch).", DefaultValueFactory = _ => new CouponConsumerOptions().MaxBatchSize };
var rounds = RoundsOption();
var connection = new Option<string?>("--connection")
{
    Description = "Connection string of a PostgreSQL server where databases may be created. Default: a throwaway server from the local binaries, with PostgreSQL's default durability.",
};

var root = new RootCommand("Decisions per second of both issuance strategies for one hot policy, measured in one run.")
{
    requests, perMessageRequests, batchSize, rounds, connection,
};
root.SetAction((result, cancellationToken) => EngineBenchmark.RunAsync(
    new EngineBenchmarkSettings(result.GetValue(requests), result.GetValue(perMessageRequests), result.GetValue(batchSize), result.GetValue(rounds), result.GetValue(connection)),
    cancellationToken));

var port = new Option<int>("--port") { Description = "Port on 127.0.0.1.", DefaultValueFactory = _ => 5070 };
var kafka = new Option<string?>("--kafka") { Description = "Bootstrap servers: also serve the produce-only endpoint, publishing there as the API does." };
var baseline = new Command(
    "baseline-server",
    "What the API's ingestion is compared with: a bare endpoint at the API's request path that answers 202, and with --kafka one that publishes and awaits the broker first.")
{
    port, kafka,
};
baseline.SetAction((result, cancellationToken) => BaselineServer.RunAsync(result.GetValue(port), result.GetValue(kafka), cancellationToken));
root.Subcommands.Add(baseline);

var e2eRequests = RequestsOption();
var e2ePerMessageRequests = PerMessageRequestsOption();
var e2eRounds = RoundsOption();
var e2eStrategy = new Option<IssuanceStrategy?>("--strategy") { Description = "Run only this strategy end to end (for profiling one path); no ratio then." };
var endToEnd = new Command(
    "end-to-end",
    "One hot policy from publish to decision (a single partition, one consumer process) with each strategy, and the engine alone on the same stream, in one run.")
{
    e2eRequests, e2ePerMessageRequests, e2eRounds, e2eStrategy,
};
endToEnd.SetAction((result, cancellationToken) => EndToEndBenchmark.RunAsync(
    new EndToEndSettings(result.GetValue(e2eRequests), result.GetValue(e2ePerMessageRequests), result.GetValue(e2eRounds), result.GetValue(e2eStrategy)), cancellationToken));
root.Subcommands.Add(endToEnd);

var engineConnection = new Option<string>("--connection") { Required = true };
var engineRequests = RequestsOption();
var engineSeed = new Option<int>("--seed") { DefaultValueFactory = _ => 7 };
var engineBatchSize = new Option<int>("--batch-size") { DefaultValueFactory = _ => new CouponConsumerOptions().MaxBatchSize };
var engineStrategy = new Option<IssuanceStrategy>("--strategy") { DefaultValueFactory = _ => IssuanceStrategy.Batched };
var engineProcess = new Command(EngineProcess.CommandName, "The engine alone in a process of its own, as the end-to-end benchmark runs it for comparison.")
{
    engineConnection, engineRequests, engineSeed, engineBatchSize, engineStrategy,
};
engineProcess.Hidden = true;
engineProcess.SetAction((result, cancellationToken) => EngineProcess.RunAsync(
    result.GetValue(engineConnection)!, result.GetValue(engineRequests), result.GetValue(engineSeed), result.GetValue(engineBatchSize), result.GetValue(engineStrategy), cancellationToken));
root.Subcommands.Add(engineProcess);

var handConsumers = new Option<int>("--consumers") { Description = "Consumer processes.", DefaultValueFactory = _ => 3 };
var handPartitions = new Option<int>("--partitions") { Description = "Partitions of the topics.", DefaultValueFactory = _ => 12 };
var handFolder = new Option<string>("--folder") { Description = "Where the address and credentials go, as the AppHost writes .couponaspire/.", DefaultValueFactory = _ => ".couponaspire-by-hand" };
var handOtlp = new Option<string?>("--otlp") { Description = "Export every service's telemetry to this OTLP endpoint (a standalone dashboard, a collector)." };
var handEnvironment = new Option<string>("--environment") { Description = "The services' environment (the AppHost runs them in Development).", DefaultValueFactory = _ => "Development" };
var handRuntimeDefaults = new Option<bool>("--runtime-defaults") { Description = "The runtime's defaults, not the small machine's settings the AppHost's local run gives every process." };
var handSettings = new Option<string[]>("--set") { Description = "More service settings, key=value (e.g. OTEL_SDK_DISABLED=true), or service/key=value for one service (api, consumer, migrations).", AllowMultipleArgumentsPerToken = true };
var byHand = new Command("by-hand", "The system the AppHost runs without containers, started by hand: its own PostgreSQL and mock cluster, the migration worker, the API and the consumers; no orchestrator or dashboard. Runs until stopped.")
{
    handConsumers, handPartitions, handFolder, handOtlp, handEnvironment, handRuntimeDefaults, handSettings,
};
byHand.SetAction((result, cancellationToken) => HandRunSystem.RunAsync(
    new HandRunSettings(
        result.GetValue(handConsumers), result.GetValue(handPartitions), Path.GetFullPath(result.GetValue(handFolder)!), result.GetValue(handOtlp), result.GetValue(handEnvironment)!,
        result.GetValue(handRuntimeDefaults), result.GetValue(handSettings) ?? []),
    cancellationToken));
root.Subcommands.Add(byHand);

// The end-to-end benchmark stops its consumer process and PostgreSQL on Ctrl+C; give it the time (the default is 2 s).
try
{
    return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(60) });
}
catch (BenchmarkFailedException e)
{
    await Console.Error.WriteLineAsync(e.Message);
    return 1;
}

// The engine and the end-to-end benchmark take the same streams and rounds: long enough that a Batched run lasts several
// seconds. Each run decides a warm-up first (six tenths of the stream, another policy), off the clock: starting and
// compiling are reported apart, as the warm-up's first second.
static Option<int> RequestsOption() => new("--requests") { Description = "Requests in the hot policy's stream that Batched decides.", DefaultValueFactory = _ => 200_000 };

static Option<int> PerMessageRequestsOption() => new("--per-message-requests") { Description = "Requests in the stream that PerMessage decides.", DefaultValueFactory = _ => 10_000 };

static Option<int> RoundsOption() => new("--rounds") { Description = "Rounds per variant; the median is reported.", DefaultValueFactory = _ => 5 };
