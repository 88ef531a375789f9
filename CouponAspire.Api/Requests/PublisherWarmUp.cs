using Confluent.Kafka;
using CouponAspire.ServiceDefaults;
using CouponAspire.Contracts;
using CouponAspire.Contracts.Events;

namespace CouponAspire.Api.Requests;

/// <summary>
/// Before the API serves: the producer connects to the cluster, gets its idempotent producer id and learns where every
/// partition of <c>coupon-events</c> leads, so that the first requests of a sale right after a start are not the ones
/// that wait for all of it. A broker that does not answer only delays the first publish, as it would have anyway.
/// </summary>
internal sealed partial class PublisherWarmUp(IProducer<string, byte[]> producer, ILogger<PublisherWarmUp> logger) : StartupTask
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    protected override Task RunAsync(CancellationToken cancellationToken) => Task.Run(
        () =>
        {
            // An admin client on the producer's own handle: the metadata it fetches fills the producer's cache.
            using var admin = new DependentAdminClientBuilder(producer.Handle).Build();
            try
            {
                var topic = admin.GetMetadata(CouponTopics.Requests, Timeout).Topics.Single();
                LogWarmedUp(topic.Topic, topic.Partitions.Count);
            }
            catch (KafkaException e)
            {
                LogNotWarmedUp(e.Error.Reason);
            }
        },
        cancellationToken);

    [LoggerMessage(LogLevel.Information, "Publisher ready: {Topic} has {Partitions} partitions")]
    private partial void LogWarmedUp(string topic, int partitions);

    [LoggerMessage(LogLevel.Warning, "Publisher not warmed up ({Reason}); the first publish will wait for the cluster")]
    private partial void LogNotWarmedUp(string reason);
}
