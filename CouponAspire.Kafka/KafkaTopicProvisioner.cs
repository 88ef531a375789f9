using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CouponAspire.Kafka;

/// <summary>
/// Makes sure a service's topics exist before anything else of it starts: idempotent, safe when several instances start
/// at once, and never relying on automatic topic creation. When the broker refuses topic creation (librdkafka's mock
/// cluster has no admin API, a managed cluster may forbid it) or cannot be reached, it logs that and lets the service
/// start: the topics are then someone else's to provision.
/// </summary>
public sealed partial class KafkaTopicProvisioner(
    AdminClientConfig adminConfig, IReadOnlyList<string> topics, KafkaTopicOptions options, ILogger<KafkaTopicProvisioner> logger) : IHostedLifecycleService
{
    Task IHostedLifecycleService.StartingAsync(CancellationToken cancellationToken) => ProvisionAsync(cancellationToken);

    public async Task ProvisionAsync(CancellationToken cancellationToken)
    {
        using var admin = new AdminClientBuilder(adminConfig).Build();
        Metadata metadata;
        try
        {
            metadata = await Task.Run(() => admin.GetMetadata(options.ProvisioningTimeout), cancellationToken);
        }
        catch (KafkaException e)
        {
            LogBrokerUnreachable(e.Error.Reason);
            return;
        }

        var existing = metadata.Topics.Where(t => topics.Contains(t.Topic) && t.Error.Code == ErrorCode.NoError).ToDictionary(t => t.Topic, t => t.Partitions.Count);
        foreach (var (topic, partitions) in existing)
        {
            LogTopicExists(topic, partitions);
        }

        var missing = topics.Except(existing.Keys).ToArray();
        if (missing.Length == 0)
        {
            return;
        }

        var partitionCount = existing.TryGetValue(topics[0], out var first) ? first : options.Partitions;
        try
        {
            await admin.CreateTopicsAsync(
                missing.Select(topic => new TopicSpecification { Name = topic, NumPartitions = partitionCount, ReplicationFactor = options.ReplicationFactor }),
                new CreateTopicsOptions { RequestTimeout = options.ProvisioningTimeout, OperationTimeout = options.ProvisioningTimeout });
            foreach (var topic in missing)
            {
                LogTopicCreated(topic, partitionCount);
            }
        }
        catch (CreateTopicsException e)
        {
            // Created here, or by another instance at the same moment, is fine; anything else leaves it to someone else.
            foreach (var report in e.Results.Where(r => r.Error.Code is not (ErrorCode.NoError or ErrorCode.TopicAlreadyExists)))
            {
                LogTopicNotCreated(report.Topic, report.Error.Reason);
            }
        }
        catch (KafkaException e)
        {
            // "Not supported by broker" (librdkafka's mock cluster), or no controller in time.
            foreach (var topic in missing)
            {
                LogTopicNotCreated(topic, e.Error.Reason);
            }
        }
    }

    Task IHostedService.StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedLifecycleService.StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedLifecycleService.StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedService.StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedLifecycleService.StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(LogLevel.Information, "Kafka topic {Topic} exists with {Partitions} partitions")]
    private partial void LogTopicExists(string topic, int partitions);

    [LoggerMessage(LogLevel.Information, "Created Kafka topic {Topic} with {Partitions} partitions")]
    private partial void LogTopicCreated(string topic, int partitions);

    [LoggerMessage(LogLevel.Warning, "Kafka topic {Topic} is missing and could not be created ({Reason}); it must be provisioned outside this service")]
    private partial void LogTopicNotCreated(string topic, string reason);

    [LoggerMessage(LogLevel.Warning, "Kafka did not answer while provisioning topics ({Reason}); starting anyway")]
    private partial void LogBrokerUnreachable(string reason);
}

public static class KafkaTopicProvisioning
{
    /// <summary>
    /// Creates <paramref name="topics"/> before the service starts where they are missing, configured by the section
    /// <paramref name="sectionName"/> (<see cref="KafkaTopicOptions"/>). Needs a Kafka client registered first
    /// (<see cref="KafkaClientExtensions"/>), whose cluster settings it uses.
    /// </summary>
    public static IHostApplicationBuilder AddKafkaTopicProvisioning(this IHostApplicationBuilder builder, string sectionName, params string[] topics)
    {
        var options = builder.Configuration.GetSection(sectionName).Get<KafkaTopicOptions>() ?? new KafkaTopicOptions();
        if (options.Partitions < 1)
        {
            throw new InvalidOperationException($"{sectionName}:Partitions must be positive.");
        }

        builder.Services.AddHostedService(services => new KafkaTopicProvisioner(
            services.GetRequiredService<AdminClientConfig>(), topics, options, services.GetRequiredService<ILogger<KafkaTopicProvisioner>>()));
        return builder;
    }
}
