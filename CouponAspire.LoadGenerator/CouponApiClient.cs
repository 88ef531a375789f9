using System.Globalization;
using System.Net;
using System.Net.Http.Json;

namespace CouponAspire.LoadGenerator;

/// <summary>The administrator's calls around the sale: opening the policies, reading outcomes and final counts.</summary>
internal sealed class CouponApiClient(HttpClient http, Uri api, string adminToken)
{
    private readonly string _adminAuthorization = "Bearer " + adminToken;

    /// <summary>
    /// One client for the whole run, with a connection per request in flight. It never retries: an issue request sent
    /// twice would be a second click.
    /// </summary>
    public static HttpClient CreateHttpClient(int connections) => new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = connections,
        ConnectTimeout = TimeSpan.FromSeconds(5),
        AllowAutoRedirect = false,
        UseCookies = false,
        UseProxy = false,
    })
    {
        Timeout = TimeSpan.FromSeconds(30),
    };

    public Uri RequestsUri(long policyId) => new(api, $"/api/coupon-policies/{policyId.ToString(CultureInfo.InvariantCulture)}/requests");

    public async Task<PolicyView> CreatePolicyAsync(string name, int quantity, CancellationToken cancellationToken)
    {
        using var request = AsAdmin(HttpMethod.Post, "/api/coupon-policies");
        request.Content = JsonContent.Create(new CreatePolicyBody(name, quantity, null, null), ApiJson.Default.CreatePolicyBody);
        using var response = await SendAsync(request, cancellationToken);
        if (response.StatusCode != HttpStatusCode.Created)
        {
            throw new CannotRunException($"Creating a policy answered {await DescribeAsync(response, cancellationToken)}{Hint(response.StatusCode)}");
        }

        return (await response.Content.ReadFromJsonAsync(ApiJson.Default.PolicyView, cancellationToken))!;
    }

    public async Task<PolicyView> GetPolicyAsync(long policyId, CancellationToken cancellationToken)
    {
        using var request = AsAdmin(HttpMethod.Get, $"/api/coupon-policies/{policyId.ToString(CultureInfo.InvariantCulture)}");
        using var response = await SendAsync(request, cancellationToken);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new CannotRunException($"Reading policy {policyId} answered {await DescribeAsync(response, cancellationToken)}");
        }

        return (await response.Content.ReadFromJsonAsync(ApiJson.Default.PolicyView, cancellationToken))!;
    }

    /// <summary>A request's state; null while the API does not know it yet (its receipt may be written after the 202).</summary>
    public async Task<RequestStatusView?> GetRequestAsync(string requestId, CancellationToken cancellationToken)
    {
        using var request = AsAdmin(HttpMethod.Get, $"/api/coupon-requests/{Uri.EscapeDataString(requestId)}");
        using var response = await http.SendAsync(request, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync(ApiJson.Default.RequestStatusView, cancellationToken);
    }

    private HttpRequestMessage AsAdmin(HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, new Uri(api, path));
        request.Headers.TryAddWithoutValidation("Authorization", _adminAuthorization);
        return request;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            return await http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new CannotRunException($"The API at {api} is unreachable: {e.Message}", e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CannotRunException($"The API at {api} did not answer within {http.Timeout.TotalSeconds:0} s.", e);
        }
    }

    private static async Task<string> DescribeAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        return $"{(int)response.StatusCode} {response.ReasonPhrase}{(body.Length == 0 ? "" : ": " + body[..Math.Min(body.Length, 300)])}";
    }

    private static string Hint(HttpStatusCode status) => status switch
    {
        HttpStatusCode.Unauthorized => " — the API does not trust the token: is the signing key (and issuer, audience) the API's?",
        HttpStatusCode.Forbidden => " — the token is not an administrator's.",
        _ => "",
    };
}
