using System.CommandLine;
using CouponAspire.LocalRun;

var consumers = new Option<int>("--consumers") { Description = "Consumer processes in the group.", DefaultValueFactory = _ => 2 };
var partitions = new Option<int>("--partitions") { Description = "Partitions of coupon-events (mock cluster only).", DefaultValueFactory = _ => 12 };
var apiPort = new Option<int>("--api-port") { Description = "Port of the API on 127.0.0.1.", DefaultValueFactory = _ => 5080 };
var strategy = new Option<string>("--strategy") { Description = "Issuance:Strategy of the consumers: Batched or PerMessage.", DefaultValueFactory = _ => "Batched" };
var kafka = new Option<string?>("--kafka") { Description = "Bootstrap servers of a real Kafka. Default: librdkafka's mock cluster in this process." };
var postgres = new Option<string?>("--postgres")
{
    Description = "Connection string of a PostgreSQL server (the database coupondb is created if missing). Default: a throwaway server from the local PostgreSQL binaries.",
};
var logLevel = new Option<string>("--log-level") { Description = "Console log level of the services.", DefaultValueFactory = _ => "Information" };

var root = new RootCommand("Runs CouponAspire without Docker: PostgreSQL, Kafka, the API and a consumer group, until Ctrl+C.")
{
    consumers, partitions, apiPort, strategy, kafka, postgres, logLevel,
};
root.SetAction((result, cancellationToken) => LocalSystem.RunAsync(
    new LocalRunSettings(
        result.GetValue(consumers),
        result.GetValue(partitions),
        result.GetValue(apiPort),
        result.GetValue(strategy)!,
        result.GetValue(kafka),
        result.GetValue(postgres),
        result.GetValue(logLevel)!),
    cancellationToken));

// Stopping takes longer than System.CommandLine's default grace of 2 s: the services drain and leave the group first,
// and leaving early would orphan them.
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(90) });
