using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using Confluent.Kafka;
using CouponAspire.Consumer.Issuance;
using CouponAspire.Contracts;
using CouponAspire.Contracts.Events;
using CouponAspire.Data;
using CouponAspire.Kafka;
using Npgsql;
using OpenTelemetry;

namespace CouponAspire.Consumer.Consuming;

/// <summary>Who is consuming, for telemetry: the group and this member's client id.</summary>
internal sealed record ConsumerIdentity(string Group, string? ClientId);

/// <summary>
/// Decides a polled batch in steps, so that the consume loop can read the next batch while this one is in the database
/// and decide it while this one's decisions are published: <see cref="ReadBatch"/> decodes the messages;
/// <see cref="DecideAsync"/> sets aside to the dead-letter topic what can never be read and decides the rest in one
/// transaction (it throws when the batch must be retried: PostgreSQL or Kafka unavailable); <see cref="PublishAsync"/>
/// publishes the decisions to <c>coupon-decisions</c> and waits for the broker's acknowledgement, after which the batch's
/// offsets may be stored; <see cref="Record"/> then writes each decision's span, metrics and log line.
/// </summary>
internal sealed partial class CouponBatchProcessor(
    IIssuanceEngine engine,
    DeadLetterPublisher deadLetters,
    DecisionPublisher decisionPublisher,
    IssuanceMetrics metrics,
    TimeProvider time,
    ILogger<CouponBatchProcessor> logger)
{
    /// <summary>
    /// Warms the decision path up for batches of up to <paramref name="batchSize"/> (<see cref="IIssuanceEngine.WarmUpAsync"/>);
    /// a failure is only logged: the first batch will wait it out.
    /// </summary>
    public async Task WarmUpAsync(int batchSize, CancellationToken cancellationToken)
    {
        try
        {
            // Reading messages: the JSON of the event, its trace context; and the span of a batch, not exported. Cold,
            // that code is much of the first batch's time.
            var batch = new ReadBatch();
            for (var offset = 0; offset < 2; offset++)
            {
                var sample = new CouponRequested(WarmUpRequest.RequestId, 1, 1, time.GetUtcNow());
                var headers = new Headers { { "traceparent", Encoding.UTF8.GetBytes($"00-{ActivityTraceId.CreateRandom()}-{ActivitySpanId.CreateRandom()}-00") } };
                batch.Add(new ConsumeResult<byte[]?, byte[]?>
                {
                    Message = new Message<byte[]?, byte[]?> { Key = Encoding.UTF8.GetBytes(CouponTopics.KeyFor(sample.PolicyId)), Value = CouponRequestedCodec.Serialize(sample), Headers = headers },
                    TopicPartitionOffset = new TopicPartitionOffset(CouponTopics.Requests, 0, offset),
                });
            }

            if (batch.Malformed.Count > 0)
            {
                throw new InvalidOperationException($"The warm-up message does not read: {batch.Malformed[0].Error}");
            }

            using (SuppressInstrumentationScope.Begin())
            {
                using var span = StartBatchSpan(batch.Readable, new ConsumerIdentity(CouponTopics.ConsumerGroup, null));
            }

            // A decision's message, as it would be published (it is not).
            var (message, request, _) = batch.Readable[0];
            var decisionHeaders = new Headers();
            KafkaTracing.CopyContext(message.Message.Headers, decisionHeaders);
            _ = DecisionPublisher.Message(
                CouponTopics.KeyFor(request.PolicyId), request, new IssuanceDecision(request.RequestId, IssuanceOutcome.Issued, 1, false, time.GetUtcNow(), 0), decisionHeaders);

            await engine.WarmUpAsync(batchSize, cancellationToken);
        }
        catch (Exception e) when (TransientFailures.IsTransient(e))
        {
            LogWarmUpFailed(e);
        }
    }

    /// <summary>
    /// Sets aside the batch's unreadable messages and decides the rest in one transaction. Returns once every message is
    /// either dead-lettered or decided; its decisions are still to be published (<see cref="PublishAsync"/>). A batch
    /// retried after its transaction committed replays the stored outcomes.
    /// </summary>
    public async Task<DecidedBatch> DecideAsync(ReadBatch batch, ConsumerIdentity consumer, CancellationToken cancellationToken)
    {
        var started = time.GetUtcNow();
        foreach (var (message, error) in batch.Malformed)
        {
            using var span = KafkaTracing.StartProcess(message, KafkaTracing.ExtractContext(message.Message.Headers), consumer.Group, consumer.ClientId, errorType: "malformed_message");
            span?.SetStatus(ActivityStatusCode.Error, error).SetTag(DeadLetterPublisher.ReasonTag, error);
            await deadLetters.PublishAsync(message, error, cancellationToken);
        }

        var readable = batch.Readable;
        if (readable.Count == 0)
        {
            return new DecidedBatch(readable, [], started, started, default);
        }

        metrics.Batch(readable.Count);
        using var processing = StartBatchSpan(readable, consumer);
        processing?.SetTag("coupon.issuance.strategy", engine.Strategy.ToString());
        var requests = new IssuanceRequest[readable.Count];
        for (var i = 0; i < requests.Length; i++)
        {
            requests[i] = readable[i].Request;
        }

        IReadOnlyList<IssuanceDecision?> decisions;
        try
        {
            decisions = await engine.DecideAsync(requests, cancellationToken);
        }
        catch (PostgresException e) when (TransientFailures.IsRefusedData(e))
        {
            // PostgreSQL refused the batch's data: find the message(s) it refuses and set only those aside.
            LogBatchRefused(e, readable.Count);
            decisions = await DecideOneByOneAsync(readable, consumer, cancellationToken);
        }

        if (readable.Count == 1 && decisions[0] is { } lone)
        {
            TagDecision(processing, readable[0].Request, lone);
        }

        return new DecidedBatch(readable, decisions, started, time.GetUtcNow(), processing?.Context ?? default);
    }

    /// <summary>
    /// Publishes a decided batch's decisions and returns once the broker has acknowledged every one: the batch's offsets
    /// may be stored then.
    /// </summary>
    public Task PublishAsync(DecidedBatch decided) =>
        decisionPublisher.PublishAsync(decided.Readable, decided.Decisions, decided.Readable.Count == 1 ? decided.Processing : default);

    /// <summary>
    /// A lone message is processed in its own trace, database work included. A batch of several gets a span of its own,
    /// linked to every message, with the database work under it; each message then gets a span in its own trace that
    /// links back to the batch's (written by <see cref="Record"/>).
    /// </summary>
    private static Activity? StartBatchSpan(List<ReadMessage> readable, ConsumerIdentity consumer) => readable.Count == 1
        ? KafkaTracing.StartProcess(readable[0].Message, readable[0].Published, consumer.Group, consumer.ClientId)
        : KafkaTracing.StartBatchProcess(CouponTopics.Requests, consumer.Group, consumer.ClientId, readable, static r => r.Published);

    private async Task<IReadOnlyList<IssuanceDecision?>> DecideOneByOneAsync(
        List<ReadMessage> readable, ConsumerIdentity consumer, CancellationToken cancellationToken)
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
                using var span = KafkaTracing.StartProcess(readable[i].Message, readable[i].Published, consumer.Group, consumer.ClientId, errorType: e.SqlState);
                var reason = $"PostgreSQL refused it: {e.SqlState} {e.MessageText}";
                span?.SetStatus(ActivityStatusCode.Error, e.MessageText).SetTag(DeadLetterPublisher.ReasonTag, reason);
                await deadLetters.PublishAsync(readable[i].Message, reason, cancellationToken);
            }
        }

        return decisions;
    }

    /// <summary>The decided batch's telemetry: a span per message (of a batch of several), metrics, log lines.</summary>
    public void Record(DecidedBatch decided, ConsumerIdentity consumer)
    {
        var (readable, decisions, started, decidedAt, batchContext) = decided;
        var issued = 0;
        var replayed = 0;
        for (var i = 0; i < readable.Count; i++)
        {
            if (decisions[i] is not { } decision)
            {
                continue;
            }

            var (message, request, published) = readable[i];
            if (readable.Count > 1)
            {
                using var span = KafkaTracing.StartProcess(message, published, consumer.Group, consumer.ClientId, started, batchContext);
                if (span is { IsAllDataRequested: true })
                {
                    TagDecision(span, request, decision);
                    span.SetEndTime(decidedAt.UtcDateTime);
                }
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
        if (readable.Count > 0 && logger.IsEnabled(level))
        {
            LogBatch(level, readable.Count, issued, replayed, string.Join(',', readable.Select(r => r.Request.Partition).Distinct()), (decidedAt - started).TotalMilliseconds);
        }
    }

    /// <summary>A recorded span's attributes of the decision (a span kept only to carry its trace context gets none).</summary>
    private static void TagDecision(Activity? span, IssuanceRequest request, IssuanceDecision decision)
    {
        if (span is not { IsAllDataRequested: true })
        {
            return;
        }

        span.SetTag("coupon.request_id", request.RequestId)
            .SetTag("coupon.policy_id", request.PolicyId)
            .SetTag("coupon.user_id", request.UserId)
            .SetTag("coupon.outcome", decision.Outcome.ToString())
            .SetTag("coupon.coupon_id", decision.CouponId)
            .SetTag("coupon.replayed", decision.Replayed);
    }

    [LoggerMessage(LogLevel.Debug, "Request {RequestId} of user {UserId} for policy {PolicyId} at partition {Partition} offset {Offset}: {Outcome} (replayed: {Replayed})")]
    private partial void LogDecision(string requestId, long userId, long policyId, int partition, long offset, IssuanceOutcome outcome, bool replayed);

    [LoggerMessage("Decided {Count} request(s), {Issued} issued, {Replayed} replayed, from partition(s) {Partitions} in {ElapsedMilliseconds:F1} ms")]
    private partial void LogBatch(LogLevel level, int count, int issued, int replayed, string partitions, double elapsedMilliseconds);

    [LoggerMessage(LogLevel.Warning, "Could not warm the decision path up; the first batch will be slower")]
    private partial void LogWarmUpFailed(Exception exception);

    [LoggerMessage(LogLevel.Warning, "PostgreSQL refused a batch of {Count}; deciding its requests one by one to set aside the one(s) it refuses")]
    private partial void LogBatchRefused(Exception exception, int count);
}

/// <summary>A message that decoded, its request, and the context it was published in (read from its headers once).</summary>
internal readonly record struct ReadMessage(ConsumeResult<byte[]?, byte[]?> Message, IssuanceRequest Request, ActivityContext Published);

/// <summary>
/// The messages polled for one transaction, in the order they were polled, each decoded as it is added: those that read
/// and those that never will (with why).
/// </summary>
/// <param name="capacity">The batch's expected size, allocated at once rather than grown.</param>
internal sealed class ReadBatch(int capacity = 0)
{
    public List<ConsumeResult<byte[]?, byte[]?>> Messages { get; } = new(capacity);

    public List<ReadMessage> Readable { get; } = new(capacity);

    public List<(ConsumeResult<byte[]?, byte[]?> Message, string Error)> Malformed { get; } = [];

    public int Count => Messages.Count;

    public void Add(ConsumeResult<byte[]?, byte[]?> message)
    {
        Messages.Add(message);
        var key = message.Message.Key is { } keyBytes ? Encoding.UTF8.GetString(keyBytes) : null;
        if (CouponRequestedCodec.TryDecode(key, message.Message.Value ?? [], out var request, out var error))
        {
            Readable.Add(new ReadMessage(
                message,
                new IssuanceRequest(request.RequestId, request.PolicyId, request.UserId, message.Partition.Value, message.Offset.Value, EventTime.Truncate(request.RequestedAt)),
                KafkaTracing.ExtractContext(message.Message.Headers)));
        }
        else
        {
            Malformed.Add((message, error));
        }
    }
}

/// <summary>
/// A batch the engine has decided (a message without a decision was dead-lettered instead): when its work began and its
/// transaction ended, and the span it was processed in (a lone message's own, or the batch's when it had several).
/// </summary>
internal sealed record DecidedBatch(
    IReadOnlyList<ReadMessage> Readable, IReadOnlyList<IssuanceDecision?> Decisions, DateTimeOffset Started, DateTimeOffset DecidedAt, ActivityContext Processing);
