using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using CouponAspire.LocalInfrastructure;

namespace CouponAspire.AppHost.Tests;

/// <summary>
/// The whole system as the AppHost runs it: Kafka and PostgreSQL in containers, the API and the consumer replicas as
/// processes. Needs Docker (or Podman); leave it out with <c>--filter "Requires!=Docker"</c>.
/// </summary>
[Trait("Requires", "Docker")]
public sealed class AppHostSystemTests
{
    /// <summary>Generous: the first run pulls the Kafka and PostgreSQL images.</summary>
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(5);

    private static readonly TimeSpan DecisionTimeout = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task A_coupon_requested_from_the_running_system_is_issued()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        // The AppHost would generate a key; giving it one lets this test mint tokens the API accepts.
        var tokens = new DevelopmentTokens(DevelopmentTokens.NewSigningKey());
        var appHost = await DistributedApplicationTestingBuilder.CreateAsync<Projects.CouponAspire_AppHost>(
            [$"--Parameters:token-signing-key={tokens.SigningKey}", "--ConsumerReplicas=2"], cancellationToken);
        await using var app = await appHost.BuildAsync(cancellationToken).WaitAsync(StartTimeout, cancellationToken);
        await app.StartAsync(cancellationToken).WaitAsync(StartTimeout, cancellationToken);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("api", cancellationToken).WaitAsync(StartTimeout, cancellationToken);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("consumer", cancellationToken).WaitAsync(StartTimeout, cancellationToken);

        using var admin = CreateClient(app, tokens.ForAdmin());
        using var user = CreateClient(app, tokens.ForUser(42));

        using var created = await admin.PostAsJsonAsync("/api/coupon-policies", new { name = "AppHost flash sale", totalQuantity = 10 }, cancellationToken);
        created.StatusCode.ShouldBe(HttpStatusCode.Created);
        var policyId = (await created.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("id").GetInt64();

        using var accepted = await user.PostAsJsonAsync($"/api/coupon-policies/{policyId}/requests", new { }, cancellationToken);
        accepted.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var receipt = await accepted.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        receipt.GetProperty("status").GetString().ShouldBe("Pending");
        var requestId = receipt.GetProperty("requestId").GetGuid();

        var outcome = await WaitUntilDecidedAsync(user, requestId, cancellationToken);
        outcome.GetProperty("status").GetString().ShouldBe("Issued");
        outcome.GetProperty("policyId").GetInt64().ShouldBe(policyId);
        outcome.GetProperty("userId").GetInt64().ShouldBe(42);
    }

    private static HttpClient CreateClient(DistributedApplication app, string token)
    {
        var client = app.CreateHttpClient("api", "http");
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private static async Task<JsonElement> WaitUntilDecidedAsync(HttpClient client, Guid requestId, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(DecisionTimeout);
        while (true)
        {
            // A 202 may be answered before the request's receipt is readable; until then the request is not found.
            using var response = await client.GetAsync($"/api/coupon-requests/{requestId}", timeout.Token);
            if (response.StatusCode != HttpStatusCode.NotFound)
            {
                response.EnsureSuccessStatusCode();
                var status = await response.Content.ReadFromJsonAsync<JsonElement>(timeout.Token);
                if (status.GetProperty("status").GetString() != "Pending")
                {
                    return status;
                }
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), timeout.Token);
        }
    }
}
