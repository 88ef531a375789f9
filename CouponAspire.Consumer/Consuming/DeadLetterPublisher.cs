using System.Globalization;
using System.Text;
using Confluent.Kafka;
using CouponAspire.Contracts.Events;

namespace CouponAspire.Consumer.Consuming;

/// <summary>
/// Sets aside a message that can never be processed: the same key, value and headers on <c>coupon-events.dlq</c>,
/// plus headers saying where it came from and why. Waits for the broker's acknowledgement, because the message's
/// offset is stored only after that. At least once: a batch retried after this may dead-letter it again.
/// </summary>
internal sealed partial class DeadLetterPublisher(IProducer<byte[]?, byte[]?> producer, IssuanceMetrics metrics, ILogger<DeadLetterPublisher> logger)
{
    public const string ReasonHeader = "dlq-reason";
    public const string SourceHeader = "dlq-source";

    /// <summary>The same reason, on the span of the message's processing.</summary>
    public const string ReasonTag = "coupon.dead_letter.reason";

    public async Task PublishAsync(ConsumeResult<byte[]?, byte[]?> message, string reason, CancellationToken cancellationToken)
    {
        var headers = new Headers();
        foreach (var header in message.Message.Headers ?? [])
        {
            headers.Add(header.Key, header.GetValueBytes());
        }

        headers.Add(ReasonHeader, Encoding.UTF8.GetBytes(reason));
        headers.Add(SourceHeader, Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{message.Topic}/{message.Partition.Value}@{message.Offset.Value}")));

        await producer.ProduceAsync(
            CouponTopics.DeadLetters,
            new Message<byte[]?, byte[]?> { Key = message.Message.Key, Value = message.Message.Value, Headers = headers },
            cancellationToken);

        metrics.DeadLettered();
        LogDeadLettered(message.Topic, message.Partition.Value, message.Offset.Value, reason);
    }

    [LoggerMessage(LogLevel.Error, "Dead-lettered {Topic} partition {Partition} offset {Offset}: {Reason}")]
    private partial void LogDeadLettered(string topic, int partition, long offset, string reason);
}
