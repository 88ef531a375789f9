using CouponAspire.LocalInfrastructure;

// librdkafka's mock cluster, kept alive by this process: its brokers listen on ports of their own choosing, so the
// bootstrap servers are published at /bootstrap-servers; /health answers once the topics exist.
var builder = WebApplication.CreateSlimBuilder(args);
var settings = builder.Configuration.GetSection(MockKafkaSettings.SectionName).Get<MockKafkaSettings>() ?? new MockKafkaSettings();
var partitions = builder.Configuration.GetValue("CouponEvents:Partitions", 12);

using var cluster = LocalKafka.Start(partitions, settings.Brokers, settings.InitialRebalanceDelay);

var app = builder.Build();
app.Logger.LogInformation(
    "librdkafka mock cluster: {Brokers} broker(s) at {BootstrapServers}; topics {Topics} with {Partitions} partitions. It keeps its data in memory: stopping this process loses it",
    settings.Brokers,
    cluster.BootstrapServers,
    string.Join(", ", LocalKafka.Topics),
    partitions);

app.MapGet("/bootstrap-servers", () => cluster.BootstrapServers);
app.MapGet("/health", () => "Healthy");
app.Run();

internal sealed class MockKafkaSettings
{
    public const string SectionName = "MockKafka";

    public int Brokers { get; set; } = 3;

    /// <summary>As a broker's <c>group.initial.rebalance.delay.ms</c>: consumers that start together form the group in one generation.</summary>
    public TimeSpan InitialRebalanceDelay { get; set; } = TimeSpan.FromSeconds(3);
}
