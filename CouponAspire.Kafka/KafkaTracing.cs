using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Confluent.Kafka;
using OpenTelemetry;
using OpenTelemetry.Context.Propagation;

namespace CouponAspire.Kafka;

/// <summary>
/// Tracing for Kafka clients with the OpenTelemetry messaging conventions (what the missing
/// OpenTelemetry.Instrumentation.ConfluentKafka would give): <c>{topic} publish</c> and <c>{topic} process</c>
/// spans, and W3C trace context carried in message headers.
/// </summary>
public static class KafkaTracing
{
    /// <summary>The name of the activity source and of the meter (<see cref="KafkaMetrics"/>).</summary>
    public const string Name = "CouponAspire.Kafka";

    public static readonly ActivitySource Source = new(Name);

    // W3C trace context and baggage, written and read alike in every process. Not Propagators.DefaultTextMapPropagator:
    // that is a no-op until OpenTelemetry's SDK starts, so a process without it (a tool, a benchmark's publisher) wrote
    // no context, and its every message started a trace of its own in the consumer.
    private static readonly TextMapPropagator Propagator = new CompositeTextMapPropagator([new TraceContextPropagator(), new BaggagePropagator()]);

    private static readonly SearchValues<byte> LowercaseHex = SearchValues.Create("0123456789abcdef"u8);

    private const string TraceParentHeader = "traceparent";
    private const string TraceStateHeader = "tracestate";

    /// <summary>
    /// The semantic conventions' attribute of a failure. A span started with it is exported whatever its trace's
    /// sampling (the services' sampler sees it at the start): how a failure in a trace that is not sampled is exported.
    /// </summary>
    public const string ErrorTypeTag = "error.type";

    /// <summary>A <c>{topic} publish</c> span under the current activity, or under <paramref name="parent"/> when given.</summary>
    public static Activity? StartPublish(string topic, string key, ActivityContext parent = default) =>
        DescribePublish(Source.StartActivity(ActivityKind.Producer, parent, name: $"{topic} publish"), topic, key);

    private static Activity? DescribePublish(Activity? activity, string topic, string key) =>
        activity?.SetTag("messaging.system", "kafka")
            .SetTag("messaging.operation.type", "send")
            .SetTag("messaging.operation.name", "publish")
            .SetTag("messaging.destination.name", topic)
            .SetTag("messaging.kafka.message.key", key);

    /// <summary>Writes the current trace context (and baggage) into the message's headers.</summary>
    public static void InjectContext(Activity? activity, Headers headers) =>
        InjectContext(activity?.Context ?? Activity.Current?.Context ?? default, headers);

    /// <summary>Writes the given trace context (and the current baggage) into the message's headers.</summary>
    public static void InjectContext(ActivityContext context, Headers headers)
    {
        Propagator.Inject(new PropagationContext(context, Baggage.Current), headers, static (h, name, value) =>
        {
            h.Remove(name);
            h.Add(name, Encoding.UTF8.GetBytes(value));
        });
    }

    /// <summary>
    /// Copies the trace context headers of one message to another as they are, so that the second is published in the
    /// first one's trace without a span of its own: cheaper than reading and writing the context again.
    /// </summary>
    public static void CopyContext(Headers? from, Headers to)
    {
        if (from is null)
        {
            return;
        }

        foreach (var name in (ReadOnlySpan<string>)[TraceParentHeader, TraceStateHeader])
        {
            if (from.TryGetLastBytes(name, out var value))
            {
                to.Add(name, value);
            }
        }
    }

    /// <summary>The trace context a message was published in, or <c>default</c> when it carries none.</summary>
    public static ActivityContext ExtractContext(Headers? headers)
    {
        if (headers is null)
        {
            return default;
        }

        // A W3C trace context is read directly: this runs for every message consumed. As the services write it (version
        // 00, no trace state) it is read from its bytes; read through strings, that was two of them a message.
        if (headers.TryGetLastBytes(TraceParentHeader, out var traceParent))
        {
            var hasTraceState = headers.TryGetLastBytes(TraceStateHeader, out var traceState);
            if (!hasTraceState && TryParseTraceParent(traceParent, out var context))
            {
                return context;
            }

            if (ActivityContext.TryParse(
                    Encoding.UTF8.GetString(traceParent),
                    hasTraceState ? Encoding.UTF8.GetString(traceState) : null,
                    isRemote: true,
                    out context))
            {
                return context;
            }
        }

        return Propagator.Extract(default, headers, static (h, name) =>
            h.TryGetLastBytes(name, out var value) ? [Encoding.UTF8.GetString(value)] : []).ActivityContext;
    }

    /// <summary>
    /// Reads a <c>traceparent</c> of version 00, <c>00-{trace id}-{parent id}-{flags}</c> in lowercase hex with neither id
    /// all zeros (W3C Trace Context), as a remote context; false for anything else.
    /// </summary>
    public static bool TryParseTraceParent(ReadOnlySpan<byte> value, out ActivityContext context)
    {
        context = default;
        if (value.Length != 55 || !value.StartsWith("00-"u8) || value[35] != (byte)'-' || value[52] != (byte)'-')
        {
            return false;
        }

        var traceId = value.Slice(3, 32);
        var spanId = value.Slice(36, 16);
        var flags = value.Slice(53, 2);
        if (traceId.ContainsAnyExcept(LowercaseHex) || spanId.ContainsAnyExcept(LowercaseHex) || flags.ContainsAnyExcept(LowercaseHex)
            || !traceId.ContainsAnyExcept((byte)'0') || !spanId.ContainsAnyExcept((byte)'0'))
        {
            return false;
        }

        var sampled = (HexValue(flags[1]) & 1) == 1; // the last bit of the flags; the others are not defined yet
        context = new ActivityContext(
            ActivityTraceId.CreateFromUtf8String(traceId),
            ActivitySpanId.CreateFromUtf8String(spanId),
            sampled ? ActivityTraceFlags.Recorded : ActivityTraceFlags.None,
            isRemote: true);
        return true;
    }

    private static int HexValue(byte digit) => digit <= (byte)'9' ? digit - '0' : digit - 'a' + 10;

    public static void SetPublished(Activity? activity, TopicPartitionOffset position)
    {
        activity?.SetTag("messaging.destination.partition.id", position.Partition.Value.ToString(CultureInfo.InvariantCulture));
        if (position.Offset != Offset.Unset)
        {
            activity?.SetTag("messaging.kafka.offset", position.Offset.Value);
        }
    }

    /// <summary>Marks a publish's span failed.</summary>
    public static void SetFailed(Activity? activity, Error error) =>
        activity?.SetStatus(ActivityStatusCode.Error, error.Reason).SetTag(ErrorTypeTag, error.Code.ToString());

    /// <summary>
    /// Marks a publish failed: its span, or, for a publish whose trace is not sampled (no span), a span of the failure
    /// alone in the current trace, exported whatever its sampling.
    /// </summary>
    public static void SetFailed(Activity? activity, string topic, string key, Error error)
    {
        if (activity is not null)
        {
            SetFailed(activity, error);
            return;
        }

        using var failure = DescribePublish(
            Source.StartActivity(ActivityKind.Producer, parentContext: default, [new(ErrorTypeTag, error.Code.ToString())], name: $"{topic} publish"), topic, key);
        SetFailed(failure, error);
    }

    /// <summary>
    /// A <c>{topic} process</c> span for one message, a child of the context it was published in, so that the request
    /// that published it and the decision about it are one trace. <paramref name="batch"/>, when the message was
    /// processed as part of a batch, is linked: the batch's span holds the work done for all of its messages. None (null)
    /// for a message of a trace that is not sampled — under a stampede, most of them — unless it failed.
    /// </summary>
    /// <param name="errorType">
    /// For a message known to have failed (set aside as a dead letter): its <see cref="ErrorTypeTag"/>, given at the start
    /// so that the span is exported whatever its trace's sampling. The caller sets the status and says why.
    /// </param>
    public static Activity? StartProcess<TKey, TValue>(
        ConsumeResult<TKey, TValue> message,
        ActivityContext parent,
        string? consumerGroup,
        string? clientId,
        DateTimeOffset? startTime = null,
        ActivityContext batch = default,
        string? errorType = null)
    {
        if (errorType is null && parent.TraceId != default && !parent.TraceFlags.HasFlag(ActivityTraceFlags.Recorded))
        {
            return null; // what the services' sampler would decide, without asking it
        }

        var activity = Source.StartActivity(
            ActivityKind.Consumer,
            parent,
            tags: errorType is null ? null : [new(ErrorTypeTag, errorType)],
            links: batch == default ? null : [new ActivityLink(batch)],
            startTime: startTime ?? default,
            name: $"{message.Topic} process");
        if (activity is not { IsAllDataRequested: true })
        {
            return activity;
        }

        activity.SetTag("messaging.system", "kafka")
            .SetTag("messaging.operation.type", "process")
            .SetTag("messaging.operation.name", "process")
            .SetTag("messaging.destination.name", message.Topic)
            .SetTag("messaging.destination.partition.id", message.Partition.Value.ToString(CultureInfo.InvariantCulture))
            .SetTag("messaging.kafka.offset", message.Offset.Value)
            .SetTag("messaging.consumer.group.name", consumerGroup)
            .SetTag("messaging.client.id", clientId);
        if (KeyOf(message.Message.Key) is { } key)
        {
            activity.SetTag("messaging.kafka.message.key", key);
        }

        return activity;
    }

    /// <summary>The message key as text, as the conventions want it: keys here are UTF-8 strings, read as bytes or as strings.</summary>
    private static string? KeyOf<TKey>(TKey key) => key switch
    {
        string text => text,
        byte[] bytes => Encoding.UTF8.GetString(bytes),
        _ => null,
    };

    /// <summary>
    /// A <c>{topic} process</c> span for a whole batch, linked to the publish context (<paramref name="publishedIn"/>) of
    /// each message whose trace is sampled; the work done for the batch (its database transaction) hangs under it, and
    /// <c>messaging.batch.message_count</c> says how many messages it decided. A message of a trace that is not sampled
    /// gets no link: nothing of its trace is exported for the link to lead to, and under a stampede that is almost every
    /// message — a thousand links a batch that every backend would store (in the dashboard, most of its rows).
    /// </summary>
    public static Activity? StartBatchProcess<TMessage>(
        string topic, string consumerGroup, string? clientId, IReadOnlyList<TMessage> messages, Func<TMessage, ActivityContext> publishedIn)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        var links = new List<ActivityLink>();
        for (var i = 0; i < messages.Count; i++)
        {
            if (publishedIn(messages[i]) is var context && context.TraceFlags.HasFlag(ActivityTraceFlags.Recorded))
            {
                links.Add(new ActivityLink(context));
            }
        }

        var activity = Source.StartActivity(ActivityKind.Consumer, parentContext: default, tags: null, links: links, name: $"{topic} process");
        activity?.SetTag("messaging.system", "kafka")
            .SetTag("messaging.operation.type", "process")
            .SetTag("messaging.operation.name", "process")
            .SetTag("messaging.destination.name", topic)
            .SetTag("messaging.consumer.group.name", consumerGroup)
            .SetTag("messaging.client.id", clientId)
            .SetTag("messaging.batch.message_count", messages.Count);
        return activity;
    }
}
