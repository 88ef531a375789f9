using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using CouponAspire.Kafka;

namespace CouponAspire.Tests.Telemetry;

/// <summary>The trace context a message carries, read from its headers as every consumed message's is.</summary>
public sealed class TraceParentTests
{
    private const string TraceId = "0af7651916cd43dd8448eb211c80319c";
    private const string SpanId = "b7ad6b7169203331";

    [Theory(Timeout = Timeouts.Unit)]
    [InlineData("01", true)]
    [InlineData("00", false)]
    [InlineData("03", true)]
    [InlineData("02", false)]
    public void A_version_00_traceparent_reads_from_its_bytes(string flags, bool sampled)
    {
        KafkaTracing.TryParseTraceParent(Encoding.ASCII.GetBytes($"00-{TraceId}-{SpanId}-{flags}"), out var context).ShouldBeTrue();

        context.ShouldSatisfyAllConditions(
            () => context.TraceId.ToHexString().ShouldBe(TraceId),
            () => context.SpanId.ToHexString().ShouldBe(SpanId),
            () => context.TraceFlags.ShouldBe(sampled ? ActivityTraceFlags.Recorded : ActivityTraceFlags.None),
            () => context.IsRemote.ShouldBeTrue());
    }

    [Theory(Timeout = Timeouts.Unit)]
    [InlineData("00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01")] // uppercase
    [InlineData("00-00000000000000000000000000000000-b7ad6b7169203331-01")] // no trace id
    [InlineData("00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01")] // no parent id
    [InlineData("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1")] // short
    [InlineData("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-")] // long
    [InlineData("00-0af7651916cd43dd8448eb211c80319c_b7ad6b7169203331-01")] // a separator missing
    [InlineData("00-0af7651916cd43dd8448eb211c80319g-b7ad6b7169203331-01")] // not hex
    [InlineData("01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")] // another version
    [InlineData("")]
    public void Anything_else_is_not_read_from_bytes(string traceParent) =>
        KafkaTracing.TryParseTraceParent(Encoding.ASCII.GetBytes(traceParent), out _).ShouldBeFalse();

    [Theory(Timeout = Timeouts.Unit)]
    [InlineData(ActivityTraceFlags.Recorded, null)]
    [InlineData(ActivityTraceFlags.None, null)]
    [InlineData(ActivityTraceFlags.Recorded, "vendor=value")]
    public void A_context_written_into_headers_reads_back_as_it_was(ActivityTraceFlags flags, string? traceState)
    {
        var written = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), flags, traceState);
        var headers = new Headers();

        KafkaTracing.InjectContext(written, headers);
        var read = KafkaTracing.ExtractContext(headers);

        read.ShouldBe(new ActivityContext(written.TraceId, written.SpanId, flags, traceState, isRemote: true));
    }

    [Fact(Timeout = Timeouts.Unit)]
    public void Headers_without_a_readable_context_give_none()
    {
        var headers = new Headers { { "traceparent", "00-00000000000000000000000000000000-b7ad6b7169203331-01"u8.ToArray() } };

        KafkaTracing.ExtractContext(headers).ShouldBe(default);
        KafkaTracing.ExtractContext(new Headers()).ShouldBe(default);
        KafkaTracing.ExtractContext(null).ShouldBe(default);
    }
}
