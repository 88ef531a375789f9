using System.Diagnostics;
using Confluent.Kafka;
using CouponAspire.ServiceDefaults;
using CouponAspire.Kafka;
using Microsoft.Extensions.Configuration;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace CouponAspire.Tests.Telemetry;

/// <summary>A consumed message's span, as the consumer starts it for each message of a batch.</summary>
[Collection(TracingCollection.Name)]
public sealed class KafkaTracingTests
{
    private static readonly ConsumeResult<byte[]?, byte[]?> Message = new()
    {
        Message = new Message<byte[]?, byte[]?> { Key = "42"u8.ToArray(), Value = [] },
        TopicPartitionOffset = new TopicPartitionOffset("coupon-events", 3, 1234),
    };

    [Fact(Timeout = Timeouts.Unit)]
    public void A_message_published_in_an_unsampled_trace_gets_no_span_unless_it_failed()
    {
        using var provider = TracerProvider();
        var unsampled = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.None, isRemote: true);

        using var decided = KafkaTracing.StartProcess(Message, unsampled, "group", "client");
        using var failed = KafkaTracing.StartProcess(Message, unsampled, "group", "client", errorType: "malformed_message");

        decided.ShouldBeNull("it would never be exported");
        failed.ShouldNotBeNull().Recorded.ShouldBeTrue("a failure is exported whatever its trace");
        failed.TraceId.ShouldBe(unsampled.TraceId);
        failed.GetTagItem("messaging.kafka.offset").ShouldBe(1234L, "a failure is exported with what it failed on");
    }

    [Fact(Timeout = Timeouts.Unit)]
    public void A_failed_publish_of_an_unsampled_trace_is_exported_in_that_trace()
    {
        var exported = new LockedList<Activity>();
        using var provider = TracerProvider(exported);
        using var request = new Activity("request").SetParentId(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.None).Start();

        // A publish of a trace that is not sampled has no span of its own.
        KafkaTracing.SetFailed(activity: null, "coupon-events", "42", new Error(ErrorCode.Local_MsgTimedOut));

        // Other tests' providers may run beside this one: only this trace's spans count.
        var failure = exported.Snapshot().Where(a => a.TraceId == request.TraceId).ShouldHaveSingleItem();
        failure.ShouldSatisfyAllConditions(
            () => failure.DisplayName.ShouldBe("coupon-events publish"),
            () => failure.Status.ShouldBe(ActivityStatusCode.Error),
            () => failure.GetTagItem("error.type").ShouldBe(nameof(ErrorCode.Local_MsgTimedOut)),
            () => failure.GetTagItem("messaging.kafka.message.key").ShouldBe("42"));
    }

    [Fact(Timeout = Timeouts.Unit)]
    public void A_decided_message_published_in_a_sampled_trace_gets_a_described_span_in_that_trace()
    {
        using var provider = TracerProvider();
        var sampled = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded, isRemote: true);

        using var span = KafkaTracing.StartProcess(Message, sampled, "group", "client");

        span.ShouldNotBeNull().Recorded.ShouldBeTrue();
        span.TraceId.ShouldBe(sampled.TraceId);
        span.ParentSpanId.ShouldBe(sampled.SpanId);
        span.DisplayName.ShouldBe("coupon-events process");
        span.GetTagItem("messaging.destination.partition.id").ShouldBe("3");
        span.GetTagItem("messaging.kafka.message.key").ShouldBe("42");
    }

    [Fact(Timeout = Timeouts.Unit)]
    public void A_batch_links_to_the_messages_whose_traces_are_sampled_and_counts_them_all()
    {
        var exported = new LockedList<Activity>();
        using var provider = TracerProvider(exported);
        ActivityContext Published(ActivityTraceFlags flags) => new(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), flags, isRemote: true);
        ActivityContext[] messages = [Published(ActivityTraceFlags.None), Published(ActivityTraceFlags.Recorded), Published(ActivityTraceFlags.None), default];

        using (var batch = KafkaTracing.StartBatchProcess("coupon-events", "group", "client", messages, m => m))
        {
            batch.ShouldNotBeNull().Recorded.ShouldBeTrue("a batch is a trace of its own, within the budget");
        }

        var span = exported.Snapshot().Where(a => a.GetTagItem("messaging.batch.message_count") is 4).ShouldHaveSingleItem();
        span.Links.Select(l => l.Context.SpanId).ShouldBe([messages[1].SpanId], "only a sampled trace has anything to link to");
    }

    /// <summary>The services' sampling (a budget of traces a second; a child does what its parent did).</summary>
    private static TracerProvider TracerProvider(ICollection<Activity>? exported = null) =>
        Sdk.CreateTracerProviderBuilder()
            .AddBoundedTraceSampling(new ConfigurationBuilder().AddInMemoryCollection([new(TraceSampling.TracesPerSecondKey, "10")]).Build())
            .AddSource(KafkaTracing.Source.Name)
            .AddInMemoryExporter(exported ?? new List<Activity>())
            .Build();
}
