using System.Buffers.Text;
using System.Security.Cryptography;
using Confluent.Kafka;
using CouponAspire.Api.Requests;
using CouponAspire.Contracts.Events;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace CouponAspire.Benchmarks;

/// <summary>
/// The ceilings of the ingestion benchmark, at the API's request path and with a body the shape of its answer:
/// <list type="bullet">
/// <item><c>/api/…/requests</c> (bare): Kestrel reads the JSON body and answers 202 — no validation, no publish, no telemetry;</item>
/// <item><c>/produce-only/api/…/requests</c>, when Kafka is given: the same, after one <see cref="CouponRequested"/>
/// is published with the API's producer settings (acks=all, idempotent) and acknowledged.</item>
/// </list>
/// </summary>
internal static class BaselineServer
{
    public const string ProduceOnlyPrefix = "/produce-only";

    public static async Task<int> RunAsync(int port, string? kafka, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        app.MapPost("/api/coupon-policies/{policyId}/requests", (long policyId, Body body) =>
            TypedResults.Accepted("/api/coupon-requests/-", new Accepted("-", "Pending")));

        using var producer = kafka is null ? null : ProducerFor(kafka);
        if (producer is not null)
        {
            app.MapPost(ProduceOnlyPrefix + "/api/coupon-policies/{policyId}/requests", async (long policyId, Body body) =>
            {
                // An id as long as the API's signed ones, so that the message is the same size.
                var request = new CouponRequested(Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(41)), policyId, body.UserId ?? 0, DateTimeOffset.UtcNow);
                await producer.ProduceAsync(
                    CouponTopics.Requests,
                    new Message<string, byte[]> { Key = CouponTopics.KeyFor(policyId), Value = CouponRequestedCodec.Serialize(request) });
                return TypedResults.Accepted($"/api/coupon-requests/{request.RequestId}", new Accepted(request.RequestId, "Pending"));
            });
        }

        Console.WriteLine($"Bare endpoint on http://127.0.0.1:{port}/api/coupon-policies/{{policyId}}/requests" +
                          (producer is null ? "" : $"; produce-only under {ProduceOnlyPrefix}, to {kafka}"));
        using var stop = cancellationToken.Register(app.Lifetime.StopApplication);
        await app.RunAsync();
        producer?.Flush(TimeSpan.FromSeconds(10));
        return 0;
    }

    private static IProducer<string, byte[]> ProducerFor(string bootstrapServers)
    {
        var config = new ProducerConfig { BootstrapServers = bootstrapServers };
        CouponRequestsProducer.Configure(config);
        return new ProducerBuilder<string, byte[]>(config).Build();
    }

    private sealed record Body(long? UserId);

    private sealed record Accepted(string RequestId, string Status);
}
