using Confluent.Kafka;
using CouponAspire.Consumer.Consuming;
using CouponAspire.Consumer.Issuance;
using CouponAspire.Contracts;
using CouponAspire.Contracts.Events;
using CouponAspire.Contracts.Schema;
using CouponAspire.ServiceDefaults.Kafka;

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
            // An eager assignor: every generation hands out every partition at once, so a member that has its share of a
            // generation knows the group is whole (see ConsumerLoopHealth), and a member joining takes one rebalance, not
            // the two of cooperative-sticky (each as long as a session timeout on the mock cluster).
            config.PartitionAssignmentStrategy ??= PartitionAssignmentStrategy.RoundRobin;
            config.ClientId ??= $"{Environment.MachineName}-{Environment.ProcessId}";
        });
        builder.AddKafkaProducer<byte[]?, byte[]?>("kafka", config =>
        {
            config.Acks = Acks.All;
            config.EnableIdempotence = true;
            config.AllowAutoCreateTopics = false;
            config.MessageTimeoutMs ??= 10000;
        });
        builder.Services.AddCouponStartupTasks(builder.Configuration);
        builder.Services.AddIssuanceEngine(builder.Configuration);

        builder.Services.AddOptions<CouponConsumerOptions>()
            .Bind(builder.Configuration.GetSection(CouponConsumerOptions.SectionName))
            .Validate(o => o.MaxBatchSize > 0, $"{CouponConsumerOptions.SectionName}:MaxBatchSize must be positive.")
            .ValidateOnStart();
        builder.Services.AddSingleton<IssuanceMetrics>();
        builder.Services.AddSingleton<DeadLetterPublisher>();
        builder.Services.AddSingleton<CouponBatchProcessor>();
        builder.Services.AddSingleton<ConsumerLoopHealth>();
        builder.Services.AddHealthChecks().AddCheck<ConsumerLoopHealth>("consume-loop");
        builder.Services.AddHostedService<CouponRequestConsumer>();
        return builder;
    }
}
