using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace CouponAspire.Kafka;

/// <summary>Builds consumers from the bound <see cref="ConsumerConfig"/>, with librdkafka's log routed to <see cref="ILogger"/>.</summary>
public sealed class KafkaConsumerFactory<TKey, TValue>(ConsumerConfig config, IServiceProvider services)
{
    public ConsumerConfig Config { get; } = config;

    public ConsumerBuilder<TKey, TValue> CreateBuilder() => new ConsumerBuilder<TKey, TValue>(Config)
        .SetLogHandler(KafkaClientExtensions.LogTo<IConsumer<TKey, TValue>>(services))
        .SetErrorHandler((_, error) => KafkaClientExtensions.LogError<IConsumer<TKey, TValue>>(services, error));
}
