using System.Diagnostics;
using CouponAspire.ServiceDefaults;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Time.Testing;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace CouponAspire.Tests.Telemetry;

/// <summary>Traces under a stampede: a bounded number a second, whole across processes, and every error whatever its trace.</summary>
public sealed class TraceSamplingTests
{
    [Fact(Timeout = Timeouts.Unit)]
    public void Root_spans_are_sampled_up_to_the_budget_a_second_and_children_follow_their_parent()
    {
        var time = new FakeTimeProvider();
        var sampler = new TraceSampling.RateLimitedSampler(perSecond: 10, time);

        var burst = Enumerable.Range(0, 100).Count(_ => Decide(sampler, parent: default) == SamplingDecision.RecordAndSample);
        time.Advance(TimeSpan.FromMilliseconds(500));
        var halfASecondLater = Enumerable.Range(0, 100).Count(_ => Decide(sampler, parent: default) == SamplingDecision.RecordAndSample);
        var sampledParent = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded, isRemote: true);
        var unsampledParent = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.None, isRemote: true);

        burst.ShouldBe(10);
        halfASecondLater.ShouldBe(5);
        Decide(sampler, sampledParent).ShouldBe(SamplingDecision.RecordAndSample, "a sampled trace stays whole, whatever the budget");
        Decide(sampler, unsampledParent).ShouldBe(SamplingDecision.RecordOnly, "an unsampled one is recorded, for its errors");
    }

    [Fact(Timeout = Timeouts.Unit)]
    public void A_span_that_fails_is_exported_although_its_trace_was_not_sampled()
    {
        using var source = new ActivitySource($"sampling-test-{Guid.NewGuid():N}");
        var exported = new List<Activity>();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection([new(TraceSampling.TracesPerSecondKey, "1")]).Build();
        using var provider = Sdk.CreateTracerProviderBuilder()
            .AddBoundedTraceSampling(configuration)
            .AddSource(source.Name)
            .AddInMemoryExporter(exported)
            .Build();

        using (source.StartActivity("first"))
        {
        }

        string failedTrace;
        using (var unsampled = source.StartActivity("second")!)
        {
            failedTrace = unsampled.TraceId.ToHexString();
            using var child = source.StartActivity("failing child")!;
            child.SetStatus(ActivityStatusCode.Error, "broken");
            unsampled.Recorded.ShouldBeFalse("the budget of one trace a second went to the first");
        }

        using (source.StartActivity("third"))
        {
        }

        provider.ForceFlush();
        exported.Select(a => a.DisplayName).ShouldBe(["first", "failing child"]);
        exported[1].TraceId.ToHexString().ShouldBe(failedTrace);
    }

    private static SamplingDecision Decide(Sampler sampler, ActivityContext parent) =>
        sampler.ShouldSample(new SamplingParameters(parent, ActivityTraceId.CreateRandom(), "span", ActivityKind.Server)).Decision;
}
