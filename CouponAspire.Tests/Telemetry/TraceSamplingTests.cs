using System.Diagnostics;
using CouponAspire.ServiceDefaults;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace CouponAspire.Tests.Telemetry;

/// <summary>Traces under a stampede: a bounded number a second, whole across processes, and every failure whatever its trace.</summary>
[Collection(TracingCollection.Name)]
public sealed class TraceSamplingTests
{
    [Fact(Timeout = Timeouts.Unit)]
    public void Root_spans_are_sampled_up_to_the_budget_a_second_children_follow_their_parent_and_failures_are_always_sampled()
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
        Decide(sampler, parent: default).ShouldBe(SamplingDecision.Drop, "the budget is spent: not even recorded");
        Decide(sampler, sampledParent).ShouldBe(SamplingDecision.RecordAndSample, "a sampled trace stays whole, whatever the budget");
        Decide(sampler, unsampledParent).ShouldBe(SamplingDecision.Drop, "an unsampled one stays absent");
        Decide(sampler, unsampledParent, failure: true).ShouldBe(SamplingDecision.RecordAndSample, "a failure is exported in any trace");
        Decide(sampler, parent: default, failure: true).ShouldBe(SamplingDecision.RecordAndSample, "and whatever the budget");
    }

    [Fact(Timeout = Timeouts.Unit)]
    public async Task A_request_that_fails_is_exported_although_its_trace_was_not_sampled_and_one_that_succeeds_is_not()
    {
        var exported = new LockedList<Activity>();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Configuration.AddInMemoryCollection([new(TraceSampling.TracesPerSecondKey, "1")]);
        builder.AddServiceDefaults();
        builder.Services.ConfigureOpenTelemetryTracerProvider(t => t.AddInMemoryExporter(exported));
        await using var app = builder.Build();
        app.UseExceptionHandler(new ExceptionHandlerOptions { ExceptionHandler = context => Task.CompletedTask });
        app.MapGet("/ok", () => "ok");
        app.MapGet("/fails/{id}", (int id) => id > 0 ? throw new InvalidOperationException($"broken {id}") : "never");
        await app.StartAsync(TestContext.Current.CancellationToken);
        using var client = app.GetTestClient();

        var unsampled = ActivityTraceId.CreateRandom();
        var unsampledSuccess = ActivityTraceId.CreateRandom();
        var failed = await SendAsync(client, "/fails/7", unsampled);
        var succeeded = await SendAsync(client, "/ok", unsampledSuccess);
        var sampled = await SendAsync(client, "/ok", parent: null);
        // A server span ends just after its response has gone: wait for the last request's, sampled with the budget.
        await Eventually.UntilAsync(
            () => exported.Snapshot().Any(a => a.Kind == ActivityKind.Server && a.TraceId != unsampled && a.TraceId != unsampledSuccess),
            "the sampled request to be exported",
            TimeSpan.FromSeconds(20));

        failed.ShouldBe(HttpStatusCode.InternalServerError);
        succeeded.ShouldBe(HttpStatusCode.OK);
        sampled.ShouldBe(HttpStatusCode.OK);
        var failure = exported.Snapshot().Where(a => a.TraceId == unsampled).ShouldHaveSingleItem("the failure, in the caller's trace");
        failure.ShouldSatisfyAllConditions(
            () => failure.Status.ShouldBe(ActivityStatusCode.Error),
            () => failure.DisplayName.ShouldBe("GET /fails/{id}"),
            () => failure.GetTagItem("http.response.status_code").ShouldBe(500),
            () => failure.GetTagItem(TraceSampling.ErrorTypeTag).ShouldBe(typeof(InvalidOperationException).FullName),
            () => failure.Events.ShouldContain(e => e.Name == "exception"));
        exported.Snapshot().ShouldNotContain(a => a.TraceId == unsampledSuccess, "a request of an unsampled trace that succeeds is not exported");
    }

    /// <summary>A GET in a trace its caller did not sample, or (no parent) one of the server's own.</summary>
    private static async Task<HttpStatusCode> SendAsync(HttpClient client, string path, ActivityTraceId? parent)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (parent is { } traceId)
        {
            request.Headers.Add("traceparent", $"00-{traceId.ToHexString()}-{ActivitySpanId.CreateRandom().ToHexString()}-00");
        }

        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        return response.StatusCode;
    }

    private static SamplingDecision Decide(Sampler sampler, ActivityContext parent, bool failure = false) =>
        sampler.ShouldSample(new SamplingParameters(
            parent, ActivityTraceId.CreateRandom(), "span", ActivityKind.Server, failure ? [new(TraceSampling.ErrorTypeTag, "500")] : null)).Decision;
}
