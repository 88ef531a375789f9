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
    public async Task PublishAsync(IReadOnlyList<ReadMessage> readable, IReadOnlyList<IssuanceDecision?> decisions, Activity? processing)
    {
        var deliveries = new List<Task<DeliveryResult<byte[]?, byte[]?>>>(readable.Count);
        List<(Activity Span, int Delivery)>? spans = null;
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
            var parent = readable.Count == 1 && processing is { Recorded: true } ? processing.Context : published;
            if (parent.TraceFlags.HasFlag(ActivityTraceFlags.Recorded) && KafkaTracing.StartPublish(CouponTopics.Decisions, key, parent) is { } span)
            {
                span.SetTag("coupon.request_id", request.RequestId).SetTag("coupon.outcome", decision.Outcome.ToString());
                KafkaTracing.InjectContext(span, headers);
                (spans ??= []).Add((span, deliveries.Count));
            }
            else
            {
                KafkaTracing.CopyContext(message.Message.Headers, headers);
            }

            deliveries.Add(producer.ProduceAsync(CouponTopics.Decisions, Message(key, request, decision, headers), CancellationToken.None));
        }

        try
        {
            await Task.WhenAll(deliveries);
            metrics.RecordPublished(CouponTopics.Decisions, time.GetElapsedTime(started), count: deliveries.Count);
        }
        catch (ProduceException<byte[]?, byte[]?> e)
        {
            metrics.RecordPublished(CouponTopics.Decisions, time.GetElapsedTime(started), e.Error, deliveries.Count);
            throw;
        }
        finally
        {
            foreach (var (span, delivery) in spans ?? [])
            {
                if (deliveries[delivery].IsCompletedSuccessfully)
                {
                    KafkaTracing.SetPublished(span, deliveries[delivery].Result.TopicPartitionOffset);
                }
                else if (deliveries[delivery].Exception?.InnerException is ProduceException<byte[]?, byte[]?> failed)
                {
                    KafkaTracing.SetFailed(span, failed.Error);
                }

                span.Dispose();
            }
        }
    }
}
