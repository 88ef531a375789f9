using System.Diagnostics;
using Confluent.Kafka;
using CouponAspire.Consumer.Issuance;
using CouponAspire.Kafka;

namespace CouponAspire.Consumer.Consuming;

/// <summary>
/// Publishes a committed batch's decisions to <c>coupon-decisions</c>, keyed by policy id, in the batch's order (one
/// policy's decisions follow its requests), and waits for the broker's acknowledgement of every one: the batch's
/// offsets are stored only after that, so every stored outcome reaches the topic at least once. A redelivered request is
/// published again with its stored outcome, unchanged. Each message carries its request's trace context; a sampled
/// trace gets a <c>coupon-decisions publish</c> span.
/// </summary>
internal sealed class DecisionPublisher(IProducer<byte[]?, byte[]?> producer, KafkaMetrics metrics, TimeProvider time)
{
    /// <summary>The message of one decision: keyed by its policy (<paramref name="key"/>), the decision as JSON, <paramref name="headers"/>.</summary>
    public static Message<byte[]?, byte[]?> Message(string key, IssuanceRequest request, IssuanceDecision decision, Headers headers) => new()
    {
        Key = System.Text.Encoding.UTF8.GetBytes(key),
        Value = CouponDecidedCodec.Serialize(CouponDecided.Of(
            request.RequestId, request.PolicyId, request.UserId, decision.Outcome, decision.CouponId, request.RequestedAt, decision.DecidedAt, decision.RemainingQuantity)),
        Headers = headers,
    };

    /// <param name="processing">The span the decisions were made in, when it belongs to the request's own trace (a lone message).</param>
    public async Task PublishAsync(IReadOnlyList<ReadMessage> readable, IReadOnlyList<IssuanceDecision?> decisions, ActivityContext processing)
    {
        // One count for the batch's acknowledgements, kept by librdkafka's delivery thread, rather than a task per message:
        // each of those would complete on the thread pool, a thousand wake-ups a batch.
        var acknowledgements = new Acknowledgements();
        List<(Activity Span, DeliveryReport<byte[]?, byte[]?>[] Report)>? spans = null;
        var started = time.GetTimestamp();
        for (var i = 0; i < readable.Count; i++)
        {
            if (decisions[i] is not { } decision)
            {
                continue; // dead-lettered: no decision
            }

            var (message, request, published) = readable[i];
            var key = CouponTopics.KeyFor(request.PolicyId);
            var headers = new Headers();
            var parent = readable.Count == 1 && processing.TraceFlags.HasFlag(ActivityTraceFlags.Recorded) ? processing : published;
            var onDelivered = acknowledgements.OnDelivered;
            if (parent.TraceFlags.HasFlag(ActivityTraceFlags.Recorded) && KafkaTracing.StartPublish(CouponTopics.Decisions, key, parent) is { } span)
            {
                span.SetTag("coupon.request_id", request.RequestId).SetTag("coupon.outcome", decision.Outcome.ToString());
                KafkaTracing.InjectContext(span, headers);
                var report = new DeliveryReport<byte[]?, byte[]?>[1];
                (spans ??= []).Add((span, report));
                onDelivered = delivered =>
                {
                    report[0] = delivered;
                    acknowledgements.OnDelivered(delivered);
                };
            }
            else
            {
                KafkaTracing.CopyContext(message.Message.Headers, headers);
            }

            acknowledgements.Expect();
            producer.Produce(CouponTopics.Decisions, Message(key, request, decision, headers), onDelivered);
        }

        try
        {
            await acknowledgements.AllAsync();
            metrics.RecordPublished(CouponTopics.Decisions, time.GetElapsedTime(started), count: acknowledgements.Count);
        }
        catch (ProduceException<byte[]?, byte[]?> e)
        {
            metrics.RecordPublished(CouponTopics.Decisions, time.GetElapsedTime(started), e.Error, acknowledgements.Count);
            throw;
        }
        finally
        {
            foreach (var (span, report) in spans ?? [])
            {
                if (report[0] is { } delivered)
                {
                    if (delivered.Error.IsError)
                    {
                        KafkaTracing.SetFailed(span, delivered.Error);
                    }
                    else
                    {
                        KafkaTracing.SetPublished(span, delivered.TopicPartitionOffset);
                    }
                }

                span.Dispose();
            }
        }
    }

    /// <summary>
    /// The broker's acknowledgements of one batch's messages, counted as librdkafka reports them: complete once every
    /// message is acknowledged, failed with the first refusal.
    /// </summary>
    private sealed class Acknowledgements
    {
        private readonly TaskCompletionSource _all = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private ProduceException<byte[]?, byte[]?>? _refused;
        private int _pending = 1; // the batch's own, given up by AllAsync once every message is produced

        public Acknowledgements() => OnDelivered = Delivered;

        /// <summary>The delivery handler of a message (it runs on librdkafka's delivery thread).</summary>
        public Action<DeliveryReport<byte[]?, byte[]?>> OnDelivered { get; }

        /// <summary>The messages produced.</summary>
        public int Count { get; private set; }

        public void Expect()
        {
            Count++;
            Interlocked.Increment(ref _pending);
        }

        public Task AllAsync()
        {
            Settle();
            return _all.Task;
        }

        private void Delivered(DeliveryReport<byte[]?, byte[]?> report)
        {
            if (report.Error.IsError)
            {
                Interlocked.CompareExchange(ref _refused, new ProduceException<byte[]?, byte[]?>(report.Error, report), null);
            }

            Settle();
        }

        private void Settle()
        {
            if (Interlocked.Decrement(ref _pending) > 0)
            {
                return;
            }

            if (_refused is { } refused)
            {
                _all.SetException(refused);
            }
            else
            {
                _all.SetResult();
            }
        }
    }
}
