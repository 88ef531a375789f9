using Confluent.Kafka;
using CouponAspire.Consumer.Consuming;
using CouponAspire.Consumer.Issuance;
using CouponAspire.Contracts.Events;
using CouponAspire.Data;
using CouponAspire.Kafka;
using OpenTelemetry.Metrics;

namespace CouponAspire.Consumer;

public static class CouponConsumerServices
{
    public static IHostApplicationBuilder AddCouponConsumerServices(this IHostApplicationBuilder builder)
    {
        builder.AddCouponDatabase();
        builder.AddKafkaConsumerFactory<byte[]?, byte[]?>("kafka", config =>
        {
            config.GroupId ??= CouponTopics.ConsumerGroup;
            // A group with no committed offsets starts at the beginning: requests accepted before any consumer ran are decided.
            config.AutoOffsetReset ??= AutoOffsetReset.Earliest;
            // Offsets are stored by the consume loop after the database commit, and committed by librdkafka from there.
            config.EnableAutoCommit = true;
            config.EnableAutoOffsetStore = false;
            config.AutoCommitIntervalMs ??= 1000;
            config.AllowAutoCreateTopics = false;
            // Incremental rebalances: a member joining or leaving moves only the partitions that change hands, and the
            // others go on deciding meanwhile.
            config.PartitionAssignmentStrategy ??= PartitionAssignmentStrategy.CooperativeSticky;
            config.ClientId ??= $"{Environment.MachineName}-{Environment.ProcessId}";
        });
        // Decisions and dead letters: acknowledged by every in-sync replica, written once and in order, before offsets are stored.
        builder.AddKafkaProducer<byte[]?, byte[]?>("kafka", config =>
        {
            config.Acks = Acks.All;
            config.EnableIdempotence = true;
            config.AllowAutoCreateTopics = false;
            config.MessageTimeoutMs ??= 10000;
            // A batch's decisions are produced at once and waited for: nothing to gain from lingering.
            config.LingerMs ??= 0;
            // Only an acknowledgement's outcome is read: librdkafka need not copy each message's headers back into its report.
            config.DeliveryReportFields ??= "status";
            config.Partitioner ??= Partitioner.Murmur2Random;
        });
        builder.AddKafkaTopicProvisioning("CouponEvents", CouponTopics.Requests, CouponTopics.Decisions, CouponTopics.DeadLetters);
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter(IssuanceMetrics.MeterName));
        builder.Services.AddIssuanceEngine(builder.Configuration);

        builder.Services.AddOptions<CouponConsumerOptions>()
            .Bind(builder.Configuration.GetSection(CouponConsumerOptions.SectionName))
            .Validate(o => o.MaxBatchSize > 0, $"{CouponConsumerOptions.SectionName}:MaxBatchSize must be positive.")
            .ValidateOnStart();
        builder.Services.AddSingleton<IssuanceMetrics>();
        builder.Services.AddSingleton<DeadLetterPublisher>();
        builder.Services.AddSingleton<DecisionPublisher>();
        builder.Services.AddSingleton<CouponBatchProcessor>();
        builder.Services.AddSingleton<ConsumerLoopHealth>();
        builder.Services.AddHealthChecks().AddCheck<ConsumerLoopHealth>("consume-loop");
        builder.Services.AddHostedService<CouponRequestConsumer>();
        return builder;
    }
}
