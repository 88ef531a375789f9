using Confluent.Kafka;
using CouponAspire.Contracts.Events;
using CouponAspire.Kafka;

namespace CouponAspire.Api.Requests;

/// <summary>What the broker said about a publish.</summary>
/// <param name="PossiblyPersisted">On failure: the broker may have written it anyway (a timeout after sending).</param>
public sealed record PublishResult(bool Accepted, Error? Error, bool PossiblyPersisted);

/// <summary>
/// Publishes <see cref="CouponRequested"/> to <c>coupon-events</c>, keyed by policy id, and waits for the broker's
/// acknowledgement (acks=all, idempotent producer; bounded by <c>message.timeout.ms</c>). It always waits for the
/// delivery report, even when the HTTP client has gone, because only the report says whether the request exists.
/// </summary>
internal sealed class CouponRequestPublisher(IProducer<string, byte[]> producer, KafkaMetrics metrics, TimeProvider time)
{
    public async Task<PublishResult> PublishAsync(CouponRequested request)
    {
        var key = CouponTopics.KeyFor(request.PolicyId);
        using var activity = KafkaTracing.StartPublish(CouponTopics.Requests, key);
        activity?.SetTag("coupon.request_id", request.RequestId)
            .SetTag("coupon.policy_id", request.PolicyId)
            .SetTag("coupon.user_id", request.UserId);

        var message = new Message<string, byte[]> { Key = key, Value = CouponRequestedCodec.Serialize(request), Headers = [] };
        KafkaTracing.InjectContext(activity, message.Headers);

        var started = time.GetTimestamp();
        try
        {
            var delivered = await producer.ProduceAsync(CouponTopics.Requests, message, CancellationToken.None);
            KafkaTracing.SetPublished(activity, delivered.TopicPartitionOffset);
            metrics.RecordPublished(CouponTopics.Requests, time.GetElapsedTime(started));
            return new PublishResult(true, null, false);
        }
        catch (ProduceException<string, byte[]> e)
        {
            KafkaTracing.SetFailed(activity, CouponTopics.Requests, key, e.Error);
            metrics.RecordPublished(CouponTopics.Requests, time.GetElapsedTime(started), e.Error);
            // A publish that timed out may have been written, whatever the client reports: a request timed out in flight
            // is reported as not persisted, and yet the broker may have kept it.
            return new PublishResult(false, e.Error, e.DeliveryResult.Status != PersistenceStatus.NotPersisted || e.Error.Code == ErrorCode.Local_MsgTimedOut);
        }
    }
}
