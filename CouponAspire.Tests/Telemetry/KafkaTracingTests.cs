using System.Diagnostics;
using Confluent.Kafka;
using CouponAspire.ServiceDefaults;
using CouponAspire.Kafka;
using Microsoft.Extensions.Configuration;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace CouponAspire.Tests.Telemetry;

/// <summary>A consumed message's span, as the consumer starts it for each message of a batch.</summary>
public sealed class KafkaTracingTests
{
    private static readonly ConsumeResult<byte[]?, byte[]?> Message = new()
    {
        Message = new Message<byte[]?, byte[]?> { Key = "42"u8.ToArray(), Value = [] },
        TopicPartitionOffset = new TopicPartitionOffset("coupon-events", 3, 1234),
    };

    [Fact(Timeout = Timeouts.System)]
    public void A_decided_message_published_in_an_unsampled_trace_gets_no_span_and_one_that_may_fail_gets_a_span_for_its_errors()
    {
        using var provider = TracerProvider();
        var unsampled = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.None, isRemote: true);

        using var decided = KafkaTracing.StartProcess(Message, unsampled, "group", "client", mayFail: false);
        using var mayFail = KafkaTracing.StartProcess(Message, unsampled, "group", "client", mayFail: true);

        decided.ShouldBeNull("it cannot fail, so it would never be exported");
        mayFail.ShouldNotBeNull().TraceId.ShouldBe(unsampled.TraceId);
        mayFail.GetTagItem("messaging.kafka.offset").ShouldBe(1234L, "a failure is exported with what it failed on");
    }

    [Fact(Timeout = Timeouts.System)]
    public void A_decided_message_published_in_a_sampled_trace_gets_a_described_span_in_that_trace()
    {
        using var provider = TracerProvider();
        var sampled = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded, isRemote: true);

        using var span = KafkaTracing.StartProcess(Message, sampled, "group", "client", mayFail: false);

        span.ShouldNotBeNull().Recorded.ShouldBeTrue();
        span.TraceId.ShouldBe(sampled.TraceId);
        span.ParentSpanId.ShouldBe(sampled.SpanId);
        span.DisplayName.ShouldBe("coupon-events process");
        span.GetTagItem("messaging.destination.partition.id").ShouldBe("3");
        span.GetTagItem("messaging.kafka.message.key").ShouldBe("42");
    }

    /// <summary>The services' sampling (a budget of traces a second; a child does what its parent did).</summary>
    private static TracerProvider TracerProvider() =>
        Sdk.CreateTracerProviderBuilder()
            .AddBoundedTraceSampling(new ConfigurationBuilder().AddInMemoryCollection([new(TraceSampling.TracesPerSecondKey, "10")]).Build())
            .AddSource(KafkaTracing.Source.Name)
            .Build();
}
