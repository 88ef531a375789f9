using CouponAspire.LocalInfrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CouponAspire.AppHost.Infrastructure;

/// <summary>
/// Kafka (<c>kafka</c>) and the PostgreSQL database (<c>coupondb</c>) the services use, the same names in every mode so
/// that their configuration never changes, and the consumer settings that the chosen Kafka needs.
/// </summary>
public sealed record CouponInfrastructure(
    InfrastructureChoice Choice,
    IResourceBuilder<IResourceWithConnectionString> Kafka,
    IResourceBuilder<IResourceWithConnectionString> Database,
    IReadOnlyDictionary<string, string?> ConsumerSettings)
{
    public const string KafkaName = "kafka";
    public const string DatabaseName = "coupondb";

    /// <summary>In publish mode: <c>Container</c> deploys Kafka's container; <c>ConnectionString</c> (default) asks the operator for one.</summary>
    public const string PublishKafkaSetting = "PublishKafka";

    public static CouponInfrastructure Add(IDistributedApplicationBuilder builder, int partitions)
    {
        var choice = InfrastructureChoice.Decide(builder);
        var infrastructure = choice.Mode == InfrastructureMode.Local ? AddLocal(builder, choice, partitions) : AddContainers(builder, choice);
        if (builder.ExecutionContext.IsRunMode)
        {
            infrastructure.Kafka.WithOrderingAudit(infrastructure.Database);
        }

        builder.Eventing.Subscribe<BeforeStartEvent>((@event, _) =>
        {
            @event.Services.GetRequiredService<ILoggerFactory>().CreateLogger("CouponAspire.AppHost").LogInformation(
                "Infrastructure: {Mode} ({Reason}). Kafka: {Kafka}; PostgreSQL: {Postgres}. Choose with --{Setting}=Auto|Containers|Local",
                choice.Mode,
                choice.Reason,
                choice.Mode == InfrastructureMode.Local ? "librdkafka's mock cluster in a process of its own" : "a confluent-local container, with Kafka UI",
                choice.Mode == InfrastructureMode.Local ? "a throwaway server from the machine's binaries" : "a postgres container, with pgweb",
                InfrastructureChoice.SettingName);
            return Task.CompletedTask;
        });

        return infrastructure;
    }

    private static CouponInfrastructure AddLocal(IDistributedApplicationBuilder builder, InfrastructureChoice choice, int partitions)
    {
        var kafka = builder.AddLocalKafka(KafkaName, partitions);
        var database = builder.AddLocalPostgres("postgres").AddDatabase(DatabaseName);

        // The mock holds a rebalance open for up to a session timeout, and its fetches always wait fetch.wait.max.ms.
        return new(choice, AsConnectionString(kafka), AsConnectionString(database), ToEnvironment(CouponAspire.LocalInfrastructure.LocalKafka.ConsumerSettings(fetchWaitMaxMs: 10)));
    }

    private static CouponInfrastructure AddContainers(IDistributedApplicationBuilder builder, InfrastructureChoice choice)
    {
        IResourceBuilder<IResourceWithConnectionString> kafka =
            builder.ExecutionContext.IsPublishMode && builder.Configuration[PublishKafkaSetting] is not "Container"
                // A managed cluster (Azure Event Hubs' Kafka endpoint, Confluent Cloud, one's own): the operator supplies
                // its connection string, e.g. BootstrapServers=…;SecurityProtocol=SaslSsl;SaslMechanism=Plain;SaslUsername=…;SaslPassword=….
                ? builder.AddConnectionString(KafkaName)
                : AsConnectionString(builder.AddKafkaContainer(KafkaName).WithKafkaUI());
        var database = builder.AddPostgres("postgres")
            .WithDataVolume()
            .WithPgWeb(pgweb => pgweb.ExcludeFromManifest())
            .AddDatabase(DatabaseName);

        // A stopped replica's partitions move to the others after 10 s instead of Kafka's default 45 s.
        return new(choice, kafka, AsConnectionString(database), new Dictionary<string, string?>
        {
            ["Aspire__Confluent__Kafka__Consumer__Config__SessionTimeoutMs"] = "10000",
        });
    }

    private static IResourceBuilder<IResourceWithConnectionString> AsConnectionString<T>(IResourceBuilder<T> resource) where T : IResourceWithConnectionString =>
        resource.ApplicationBuilder.CreateResourceBuilder<IResourceWithConnectionString>(resource.Resource);

    private static Dictionary<string, string?> ToEnvironment(IReadOnlyDictionary<string, string?> settings) =>
        settings.ToDictionary(s => s.Key.Replace(":", "__", StringComparison.Ordinal), s => s.Value);
}
