using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace CouponAspire.Benchmarks;

/// <summary>
/// The ceiling of the ingestion benchmark: Kestrel answering the request endpoint with 202 and a body the shape of
/// the API's, after reading the JSON body it is sent — no validation, no policy lookup, no publish, no telemetry.
/// </summary>
internal static class BaselineServer
{
    public static async Task<int> RunAsync(int port, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        var accepted = new Accepted(Guid.Empty, "Pending");
        app.MapPost("/api/coupon-policies/{policyId}/requests", (string policyId, Body body) =>
            TypedResults.Accepted($"/api/coupon-requests/{accepted.RequestId}", accepted));
        Console.WriteLine($"Baseline endpoint on http://127.0.0.1:{port}/api/coupon-policies/{{policyId}}/requests");
        using var stop = cancellationToken.Register(app.Lifetime.StopApplication);
        await app.RunAsync();
        return 0;
    }

    private sealed record Body(long? UserId);

    private sealed record Accepted(Guid RequestId, string Status);
}
