using Confluent.Kafka;

namespace CouponAspire.Api.Requests;

/// <summary>How <see cref="CouponRequested"/> is published to <c>coupon-events</c>: the producer settings of the API.</summary>
public static class CouponRequestsProducer
{
    /// <summary>
    /// Applied after the configuration is bound (<c>Aspire:Confluent:Kafka:Producer:Config</c>): enforces what
    /// correctness needs and defaults what configuration left unset.
    /// </summary>
    public static void Configure(ProducerConfig config)
    {
        // Correctness needs these: a 202 means every in-sync replica has the request, written exactly once.
        config.Acks = Acks.All;
        config.EnableIdempotence = true;
        config.AllowAutoCreateTopics = false;
        config.MessageTimeoutMs ??= 5000;
        config.RequestTimeoutMs ??= Math.Min(config.MessageTimeoutMs.Value, 30000);
        config.LingerMs ??= 5;
        config.Partitioner ??= Partitioner.Murmur2Random;
        // Only an acknowledgement's outcome is read (its status, partition and offset): librdkafka need not copy each
        // message's headers back into its report.
        config.DeliveryReportFields ??= "status";
    }
}
