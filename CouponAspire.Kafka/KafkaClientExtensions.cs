using Confluent.Kafka;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace CouponAspire.Kafka;

/// <summary>
/// Kafka clients registered the way Aspire.Confluent.Kafka does (which cannot be restored here), so that moving to
/// it later changes nothing in configuration: bootstrap servers from <c>ConnectionStrings:{name}</c>, client settings
/// from <c>Aspire:Confluent:Kafka:Producer:Config</c> / <c>…:Consumer:Config</c> (and the same under
/// <c>…:Producer:{name}:Config</c>), librdkafka's log routed to <see cref="ILogger"/>.
/// </summary>
public static class KafkaClientExtensions
{
    public const string ProducerSection = "Aspire:Confluent:Kafka:Producer";
    public const string ConsumerSection = "Aspire:Confluent:Kafka:Consumer";

    /// <summary>
    /// Registers a singleton <see cref="IProducer{TKey, TValue}"/>. <paramref name="configure"/> runs after the
    /// configuration is bound: use it to enforce what correctness needs and to default what configuration left unset.
    /// </summary>
    public static IHostApplicationBuilder AddKafkaProducer<TKey, TValue>(
        this IHostApplicationBuilder builder, string connectionName, Action<ProducerConfig>? configure = null)
    {
        var config = ReadConfig(builder.Configuration, new ProducerConfig(), ProducerSection, connectionName);
        configure?.Invoke(config);
        AddKafkaCommon(builder, config);
        builder.Services.AddSingleton(services => new ProducerBuilder<TKey, TValue>(config)
            .SetLogHandler(LogTo<IProducer<TKey, TValue>>(services))
            .SetErrorHandler((_, error) => LogError<IProducer<TKey, TValue>>(services, error))
            .Build());
        return builder;
    }

    /// <summary>
    /// Registers a <see cref="KafkaConsumerFactory{TKey, TValue}"/> rather than a consumer: a consuming service
    /// owns its consumer's life (rebalance handlers, close on shutdown), so it builds one when it starts.
    /// </summary>
    public static IHostApplicationBuilder AddKafkaConsumerFactory<TKey, TValue>(
        this IHostApplicationBuilder builder, string connectionName, Action<ConsumerConfig>? configure = null)
    {
        var config = ReadConfig(builder.Configuration, new ConsumerConfig(), ConsumerSection, connectionName);
        configure?.Invoke(config);
        if (string.IsNullOrEmpty(config.GroupId))
        {
            throw new InvalidOperationException($"No group id configured: set {ConsumerSection}:Config:GroupId.");
        }

        builder.Services.AddSingleton(config);
        AddKafkaCommon(builder, config);
        builder.Services.AddSingleton<KafkaConsumerFactory<TKey, TValue>>();
        return builder;
    }

    /// <summary>
    /// Once per service, whatever the number of clients: the metrics, the spans and the meter registered with
    /// OpenTelemetry, an <see cref="AdminClientConfig"/> for admin work (topic provisioning) and a broker health check.
    /// </summary>
    private static void AddKafkaCommon(IHostApplicationBuilder builder, ClientConfig config)
    {
        builder.Services.TryAddSingleton<KafkaMetrics>();
        builder.Services.AddOpenTelemetry()
            .WithTracing(tracing => tracing.AddSource(KafkaTracing.Name))
            .WithMetrics(metrics => metrics.AddMeter(KafkaTracing.Name));
        builder.Services.TryAddSingleton(AdminConfigFrom(config));
        if (builder.Services.All(service => service.ServiceType != typeof(KafkaHealthCheck)))
        {
            builder.Services.AddSingleton<KafkaHealthCheck>();
            builder.Services.AddHealthChecks().AddCheck<KafkaHealthCheck>("kafka");
        }
    }

    /// <summary>
    /// An admin client's settings taken from another client's: only how to reach and authenticate to the cluster, so
    /// that producer or consumer settings do not follow it (librdkafka warns about each one).
    /// </summary>
    public static AdminClientConfig AdminConfigFrom(ClientConfig config) => new(config
        .Where(setting => setting.Key.StartsWith("bootstrap.", StringComparison.Ordinal)
                          || setting.Key.StartsWith("security.", StringComparison.Ordinal)
                          || setting.Key.StartsWith("sasl.", StringComparison.Ordinal)
                          || setting.Key.StartsWith("ssl.", StringComparison.Ordinal)
                          || setting.Key.StartsWith("client.", StringComparison.Ordinal))
        .ToDictionary(setting => setting.Key, setting => setting.Value));

    internal static Action<IClient, LogMessage> LogTo<TCategory>(IServiceProvider services)
    {
        var logger = services.GetRequiredService<ILogger<TCategory>>();
        return (_, message) => logger.Log(
            (LogLevel)message.LevelAs(LogLevelType.MicrosoftExtensionsLogging),
            "librdkafka {Facility} ({Client}): {Message}",
            message.Facility,
            message.Name,
            message.Message);
    }

    internal static void LogError<TCategory>(IServiceProvider services, Error error) =>
        services.GetRequiredService<ILogger<TCategory>>().Log(
            error.IsFatal ? LogLevel.Critical : LogLevel.Warning,
            "Kafka client error {Code}: {Reason}",
            error.Code,
            error.Reason);

    private static TConfig ReadConfig<TConfig>(IConfiguration configuration, TConfig config, string section, string connectionName)
        where TConfig : ClientConfig
    {
        configuration.GetSection($"{section}:Config").Bind(config);
        configuration.GetSection($"{section}:{connectionName}:Config").Bind(config);
        if (configuration.GetConnectionString(connectionName) is { Length: > 0 } connectionString)
        {
            KafkaConnectionString.Apply(connectionString, config);
        }

        if (string.IsNullOrEmpty(config.BootstrapServers))
        {
            throw new InvalidOperationException(
                $"No bootstrap servers configured: set ConnectionStrings:{connectionName} (for example localhost:9092).");
        }

        return config;
    }
}
