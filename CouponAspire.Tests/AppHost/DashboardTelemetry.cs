using System.Text.Json;

namespace CouponAspire.Tests.AppHost;

/// <summary>A span as the Aspire dashboard stores it (its telemetry API answers in OTLP JSON).</summary>
public sealed record DashboardSpan(
    string Service,
    string? Instance,
    string Scope,
    string TraceId,
    string SpanId,
    string? ParentSpanId,
    string Name,
    int Kind,
    IReadOnlyDictionary<string, string> Attributes,
    IReadOnlyList<(string TraceId, string SpanId)> Links)
{
    public const int Server = 2;
    public const int Producer = 4;
    public const int Consumer = 5;
}

/// <summary>A structured log record as the Aspire dashboard stores it.</summary>
public sealed record DashboardLog(string Service, string? Instance, string Category, int SeverityNumber, string Severity, string Message)
{
    /// <summary>OpenTelemetry's severity numbers: 13–16 warnings, 17–20 errors, 21–24 fatal.</summary>
    public const int Warning = 13;
    public const int Error = 17;

    public override string ToString() => $"{Service} {Instance} [{Severity}] {Category}: {Message}";
}

/// <summary>
/// Reads back what the services sent to the dashboard's OTLP endpoint, through the dashboard's telemetry API: the browser
/// token of its login address is exchanged for the API key, as the dashboard's own tools do.
/// </summary>
public sealed class DashboardTelemetry(HttpClient http) : IDisposable
{
    private const int MaxRecords = 10_000;

    public static async Task<DashboardTelemetry> ConnectAsync(Uri loginUrl, CancellationToken cancellationToken)
    {
        var http = new HttpClient { BaseAddress = new Uri(loginUrl.GetLeftPart(UriPartial.Authority)) };
        var token = System.Web.HttpUtility.ParseQueryString(loginUrl.Query)["t"] ?? throw new InvalidOperationException($"No browser token in {loginUrl}.");
        using var validated = await http.PostAsJsonAsync("/api/telemetry/validateToken", new { token }, cancellationToken);
        validated.EnsureSuccessStatusCode();
        var apiKey = (await validated.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("apiKey").GetString();
        http.DefaultRequestHeaders.Add("x-api-key", apiKey);
        return new DashboardTelemetry(http);
    }

    /// <summary>Every span of a trace the dashboard has received so far (none when it has not seen the trace).</summary>
    public async Task<List<DashboardSpan>> TraceAsync(string traceId, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync($"/api/telemetry/traces/{traceId}", cancellationToken);
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return [];
        }

        response.EnsureSuccessStatusCode();
        var document = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        return [.. Spans(document.GetProperty("data"))];
    }

    /// <summary>
    /// Every structured log record the dashboard holds now, of every resource. The API answers only the newest 200 unless
    /// asked for more, and a sale's logs soon push a start's out of those; its own ceiling is 10,000 a resource.
    /// </summary>
    public async Task<List<DashboardLog>> LogsAsync(CancellationToken cancellationToken)
    {
        var document = await http.GetFromJsonAsync<JsonElement>($"/api/telemetry/logs?limit={MaxRecords}", cancellationToken);
        if (document.GetProperty("returnedCount").GetInt32() is var returned && document.GetProperty("totalCount").GetInt32() is var total && returned < total)
        {
            throw new InvalidOperationException($"The dashboard answered {returned} of its {total} log records.");
        }

        List<DashboardLog> logs = [];
        foreach (var resource in document.GetProperty("data").GetProperty("resourceLogs").EnumerateArray())
        {
            var resourceAttributes = Attributes(resource.GetProperty("resource"));
            foreach (var scope in resource.GetProperty("scopeLogs").EnumerateArray())
            {
                var category = scope.GetProperty("scope").GetProperty("name").GetString()!;
                foreach (var record in scope.GetProperty("logRecords").EnumerateArray())
                {
                    logs.Add(new DashboardLog(
                        resourceAttributes.GetValueOrDefault("service.name", ""),
                        resourceAttributes.GetValueOrDefault("service.instance.id"),
                        category,
                        record.TryGetProperty("severityNumber", out var number) ? number.GetInt32() : 0,
                        record.TryGetProperty("severityText", out var text) ? text.GetString() ?? "" : "",
                        record.TryGetProperty("body", out var body) ? body.EnumerateObject().First().Value.ToString() : ""));
                }
            }
        }

        return logs;
    }

    private static IEnumerable<DashboardSpan> Spans(JsonElement data)
    {
        foreach (var resource in data.GetProperty("resourceSpans").EnumerateArray())
        {
            var resourceAttributes = Attributes(resource.GetProperty("resource"));
            foreach (var scope in resource.GetProperty("scopeSpans").EnumerateArray())
            {
                var scopeName = scope.GetProperty("scope").GetProperty("name").GetString()!;
                foreach (var span in scope.GetProperty("spans").EnumerateArray())
                {
                    yield return new DashboardSpan(
                        resourceAttributes.GetValueOrDefault("service.name", ""),
                        resourceAttributes.GetValueOrDefault("service.instance.id"),
                        scopeName,
                        span.GetProperty("traceId").GetString()!,
                        span.GetProperty("spanId").GetString()!,
                        span.TryGetProperty("parentSpanId", out var parent) && parent.GetString() is { Length: > 0 } p ? p : null,
                        span.GetProperty("name").GetString()!,
                        span.GetProperty("kind").GetInt32(),
                        Attributes(span),
                        span.TryGetProperty("links", out var links)
                            ? [.. links.EnumerateArray().Select(l => (l.GetProperty("traceId").GetString()!, l.GetProperty("spanId").GetString()!))]
                            : []);
                }
            }
        }
    }

    private static Dictionary<string, string> Attributes(JsonElement element)
    {
        var attributes = new Dictionary<string, string>();
        if (element.TryGetProperty("attributes", out var list))
        {
            foreach (var attribute in list.EnumerateArray())
            {
                var value = attribute.GetProperty("value").EnumerateObject().First().Value;
                attributes[attribute.GetProperty("key").GetString()!] = value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();
            }
        }

        return attributes;
    }

    public void Dispose() => http.Dispose();
}
