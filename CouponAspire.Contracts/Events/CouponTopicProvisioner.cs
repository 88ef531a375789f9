using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CouponAspire.Contracts.Events;

/// <summary>
/// Makes sure <c>coupon-events</c> and its dead-letter topic exist before the service starts: idempotent, safe when
/// several instances start at once, and never relying on automatic topic creation. When the broker refuses topic
/// creation (librdkafka's mock cluster has no admin API) or cannot be reached, it logs that and lets the service start.
/// </summary>
public sealed partial class CouponTopicProvisioner(AdminClientConfig adminConfig, IOptions<CouponEventsOptions> options, ILogger<CouponTopicProvisioner> logger)
    : StartupTask
{
    protected override async Task RunAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var wanted = new[] { CouponTopics.Requests, CouponTopics.DeadLetters };
        using var admin = new AdminClientBuilder(adminConfig).Build();

        Metadata metadata;
        try
        {
            metadata = await Task.Run(() => admin.GetMetadata(settings.ProvisioningTimeout), cancellationToken);
        }
        catch (KafkaException e)
        {
            LogBrokerUnreachable(e.Error.Reason);
            return;
        }

        var existing = metadata.Topics.Where(t => wanted.Contains(t.Topic) && t.Error.Code == ErrorCode.NoError).ToList();
        foreach (var topic in existing)
        {
            LogTopicExists(topic.Topic, topic.Partitions.Count);
        }

        var missing = wanted.Except(existing.Select(t => t.Topic)).ToArray();
        if (missing.Length == 0)
        {
            return;
        }

        try
        {
            await admin.CreateTopicsAsync(
                missing.Select(topic => new TopicSpecification { Name = topic, NumPartitions = settings.Partitions, ReplicationFactor = settings.ReplicationFactor }),
                new CreateTopicsOptions { RequestTimeout = settings.ProvisioningTimeout, OperationTimeout = settings.ProvisioningTimeout });
            foreach (var topic in missing)
            {
                LogTopicCreated(topic, settings.Partitions);
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

    [LoggerMessage(LogLevel.Information, "Kafka topic {Topic} exists with {Partitions} partitions")]
    private partial void LogTopicExists(string topic, int partitions);

    [LoggerMessage(LogLevel.Information, "Created Kafka topic {Topic} with {Partitions} partitions")]
    private partial void LogTopicCreated(string topic, int partitions);

    [LoggerMessage(LogLevel.Warning, "Kafka topic {Topic} is missing and could not be created ({Reason}); it must be provisioned outside this service")]
    private partial void LogTopicNotCreated(string topic, string reason);

    [LoggerMessage(LogLevel.Warning, "Kafka did not answer while provisioning topics ({Reason}); starting anyway")]
    private partial void LogBrokerUnreachable(string reason);
}
