using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using Confluent.Kafka;
using CouponAspire.Consumer.Issuance;
using CouponAspire.Contracts;
using CouponAspire.Contracts.Events;
using CouponAspire.Contracts.Schema;
using CouponAspire.ServiceDefaults.Kafka;
using Npgsql;

namespace CouponAspire.Consumer.Consuming;

/// <summary>Who is consuming, for telemetry: the group and this member's client id.</summary>
internal sealed record ConsumerIdentity(string Group, string? ClientId);

/// <summary>
/// Decides one polled batch: messages that can never be read go to the dead-letter topic, the rest to the issuance
/// engine in one transaction. Throws when the batch must be retried (PostgreSQL or Kafka unavailable); returns once
/// every message of the batch is either decided or dead-lettered, so that its offsets may be stored.
/// </summary>
internal sealed partial class CouponBatchProcessor(
    IIssuanceEngine engine,
    DeadLetterPublisher deadLetters,
    IssuanceMetrics metrics,
    TimeProvider time,
    ILogger<CouponBatchProcessor> logger)
{
    /// <summary>Warms the decision path up (<see cref="IIssuanceEngine.WarmUpAsync"/>); a failure is only logged: the first batch will wait it out.</summary>
    public async Task WarmUpAsync(CancellationToken cancellationToken)
    {
        try
        {
            // Reading a message: the JSON of the event, its trace context. Cold, that is most of the first batch's time.
            var sample = new CouponRequested(WarmUpRequest.RequestId, 1, 1, time.GetUtcNow());
            var headers = new Headers { { "traceparent", Encoding.UTF8.GetBytes($"00-{ActivityTraceId.CreateRandom()}-{ActivitySpanId.CreateRandom()}-00") } };
            var message = new ConsumeResult<byte[]?, byte[]?>
            {
                Message = new Message<byte[]?, byte[]?> { Key = Encoding.UTF8.GetBytes(CouponRequestedCodec.KeyFor(sample.PolicyId)), Value = CouponRequestedCodec.Serialize(sample), Headers = headers },
                TopicPartitionOffset = new TopicPartitionOffset(CouponTopics.Requests, 0, 0),
            };
            if (!TryRead(message, out _, out var error))
            {
                throw new InvalidOperationException($"The warm-up message does not read: {error}");
            }

            await engine.WarmUpAsync(cancellationToken);
        }
        catch (Exception e) when (TransientFailures.IsTransient(e))
        {
            LogWarmUpFailed(e);
        }
    }

    public async Task ProcessAsync(IReadOnlyList<ConsumeResult<byte[]?, byte[]?>> batch, ConsumerIdentity consumer, CancellationToken cancellationToken)
    {
        var started = time.GetUtcNow();
        var readable = new List<Readable>(batch.Count);
        foreach (var message in batch)
        {
            if (TryRead(message, out var read, out var error))
            {
                readable.Add(read);
            }
            else
            {
                using var span = KafkaTracing.StartProcess(message, KafkaTracing.ExtractContext(message.Message.Headers), consumer.Group, consumer.ClientId);
                span?.SetStatus(ActivityStatusCode.Error, error).SetTag("error.type", "malformed_message").SetTag(DeadLetterPublisher.ReasonTag, error);
                await deadLetters.PublishAsync(message, error, cancellationToken);
            }
        }

        if (readable.Count == 0)
        {
            return;
        }

        metrics.Batch(readable.Count);

        // A lone message is processed in its own trace, database work included. A batch of several gets a span of its
        // own, linked to every message, with the database work under it; each message then gets a span in its own
        // trace that links back to the batch's.
        using var processing = readable.Count == 1
            ? KafkaTracing.StartProcess(readable[0].Message, readable[0].Published, consumer.Group, consumer.ClientId)
            : KafkaTracing.StartBatchProcess(CouponTopics.Requests, consumer.Group, consumer.ClientId, readable.Select(r => r.Published), readable.Count);
        processing?.SetTag("coupon.issuance.strategy", engine.Strategy.ToString());
        IReadOnlyList<IssuanceDecision?> decisions;
        try
        {
            decisions = await engine.DecideAsync(readable.Select(r => r.Request).ToArray(), cancellationToken);
        }
        catch (PostgresException e) when (TransientFailures.IsRefusedData(e))
        {
            // PostgreSQL refused the batch's data: find the message(s) it refuses and set only those aside.
            LogBatchRefused(e, readable.Count);
            decisions = await DecideOneByOneAsync(readable, consumer, cancellationToken);
        }

        Record(readable, decisions, started, consumer, processing);
    }

    private async Task<IReadOnlyList<IssuanceDecision?>> DecideOneByOneAsync(
        List<Readable> readable, ConsumerIdentity consumer, CancellationToken cancellationToken)
    {
        var decisions = new IssuanceDecision?[readable.Count];
        for (var i = 0; i < readable.Count; i++)
        {
            try
            {
                decisions[i] = (await engine.DecideAsync([readable[i].Request], cancellationToken))[0];
            }
            catch (PostgresException e) when (TransientFailures.IsRefusedData(e))
            {
                using var span = KafkaTracing.StartProcess(readable[i].Message, readable[i].Published, consumer.Group, consumer.ClientId);
                var reason = $"PostgreSQL refused it: {e.SqlState} {e.MessageText}";
                span?.SetStatus(ActivityStatusCode.Error, e.MessageText).SetTag("error.type", e.SqlState).SetTag(DeadLetterPublisher.ReasonTag, reason);
                await deadLetters.PublishAsync(readable[i].Message, reason, cancellationToken);
            }
        }

        return decisions;
    }

    private void Record(
        List<Readable> readable,
        IReadOnlyList<IssuanceDecision?> decisions,
        DateTimeOffset started,
        ConsumerIdentity consumer,
        Activity? processing)
    {
        var decidedAt = time.GetUtcNow();
        var issued = 0;
        var replayed = 0;
        for (var i = 0; i < readable.Count; i++)
        {
            if (decisions[i] is not { } decision)
            {
                continue;
            }

            var (message, request, published) = readable[i];

            if (readable.Count == 1)
            {
                TagDecision(processing, request, decision);
            }
            else
            {
                using var span = KafkaTracing.StartProcess(message, published, consumer.Group, consumer.ClientId, started, processing?.Context ?? default);
                TagDecision(span, request, decision);
            }

            if (decision.Replayed)
            {
                metrics.Replayed();
                replayed++;
            }
            else
            {
                metrics.Decided(decision.Outcome, decidedAt - request.RequestedAt, request.Partition);
                issued += decision.Outcome == IssuanceOutcome.Issued ? 1 : 0;
            }

            LogDecision(request.RequestId, request.UserId, request.PolicyId, request.Partition, request.Offset, decision.Outcome, decision.Replayed);
        }

        // A line per batch under a stampede is hundreds a second in the dashboard: the decisions are in the metrics and the
        // traces; a batch is worth a line of its own when it met redeliveries.
        var level = replayed > 0 ? LogLevel.Information : LogLevel.Debug;
        if (logger.IsEnabled(level))
        {
            LogBatch(level, readable.Count, issued, replayed, string.Join(',', readable.Select(r => r.Request.Partition).Distinct()), (decidedAt - started).TotalMilliseconds);
        }
    }

    private static bool TryRead(ConsumeResult<byte[]?, byte[]?> message, out Readable readable, [NotNullWhen(false)] out string? error)
    {
        var key = message.Message.Key is { } keyBytes ? Encoding.UTF8.GetString(keyBytes) : null;
        if (!CouponRequestedCodec.TryDecode(key, message.Message.Value ?? [], out var request, out error))
        {
            readable = default;
            return false;
        }

        readable = new Readable(
            message,
            new IssuanceRequest(request.RequestId, request.PolicyId, request.UserId, message.Partition.Value, message.Offset.Value, request.RequestedAt),
            KafkaTracing.ExtractContext(message.Message.Headers));
        return true;
    }

    private static void TagDecision(Activity? span, IssuanceRequest request, IssuanceDecision decision) =>
        span?.SetTag("coupon.request_id", request.RequestId)
            .SetTag("coupon.policy_id", request.PolicyId)
            .SetTag("coupon.user_id", request.UserId)
            .SetTag("coupon.outcome", decision.Outcome.ToString())
            .SetTag("coupon.coupon_id", decision.CouponId)
            .SetTag("coupon.replayed", decision.Replayed);

    [LoggerMessage(LogLevel.Debug, "Request {RequestId} of user {UserId} for policy {PolicyId} at partition {Partition} offset {Offset}: {Outcome} (replayed: {Replayed})")]
    private partial void LogDecision(string requestId, long userId, long policyId, int partition, long offset, IssuanceOutcome outcome, bool replayed);

    [LoggerMessage("Decided {Count} request(s), {Issued} issued, {Replayed} replayed, from partition(s) {Partitions} in {ElapsedMilliseconds:F1} ms")]
    private partial void LogBatch(LogLevel level, int count, int issued, int replayed, string partitions, double elapsedMilliseconds);

    [LoggerMessage(LogLevel.Warning, "Could not warm the decision path up; the first batch will be slower")]
    private partial void LogWarmUpFailed(Exception exception);

    [LoggerMessage(LogLevel.Warning, "PostgreSQL refused a batch of {Count}; deciding its requests one by one to set aside the one(s) it refuses")]
    private partial void LogBatchRefused(Exception exception, int count);

    /// <summary>A message that decoded, its request, and the context it was published in (read from its headers once).</summary>
    private readonly record struct Readable(ConsumeResult<byte[]?, byte[]?> Message, IssuanceRequest Request, ActivityContext Published);
}
