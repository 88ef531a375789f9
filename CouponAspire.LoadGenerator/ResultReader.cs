using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.ServerSentEvents;
using System.Text.Json;

namespace CouponAspire.LoadGenerator;

/// <summary>How a client learns what became of its request once it was accepted.</summary>
internal enum ResultMode
{
    /// <summary>
    /// The request itself with <c>Prefer: wait=N</c>: one call, answered with the outcome (201) the moment it is decided;
    /// one still pending when the wait ends (202) is then waited for as <see cref="Get"/> does.
    /// </summary>
    Wait,

    /// <summary>The 202 at once, then <c>GET /api/coupon-requests/{id}</c> with <c>Prefer: wait=N</c>: two calls a click.</summary>
    Get,

    /// <summary><c>GET /api/coupon-requests/{id}/events</c>: a stream that ends with the decision.</summary>
    Events,

    /// <summary><c>GET /api/coupon-requests/{id}</c> every <see cref="ResultReader.PollInterval"/>, the way clients did before they could wait.</summary>
    Poll,
}

/// <summary>
/// Learns a request's outcome as its client does, with the client's own token: by waiting, by a stream, or by polling.
/// A call that fails (the API restarting, a connection dropped) is made again until the deadline.
/// </summary>
internal sealed class ResultReader(HttpClient http, Uri api, ResultMode mode)
{
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>The longest wait asked for at once: well within the client's own timeout.</summary>
    private const int MaxWaitSeconds = 20;

    private static readonly TimeSpan RetryPause = TimeSpan.FromMilliseconds(200);

    /// <param name="deadline">A <see cref="Stopwatch"/> timestamp after which the request counts as undecided.</param>
    /// <returns>The decided request, or null when it was not decided by the deadline (or is not the caller's to read).</returns>
    public async Task<RequestStatusView?> ReadAsync(string requestId, string authorization, long deadline, CancellationToken cancellationToken)
    {
        var uri = new Uri(api, $"/api/coupon-requests/{Uri.EscapeDataString(requestId)}");
        while (Stopwatch.GetTimestamp() < deadline)
        {
            try
            {
                var status = mode switch
                {
                    ResultMode.Events => await StreamAsync(new Uri(uri + "/events"), authorization, deadline, cancellationToken),
                    ResultMode.Wait or ResultMode.Get => await GetAsync(uri, authorization, WaitSeconds(deadline), cancellationToken),
                    _ => await GetAsync(uri, authorization, null, cancellationToken),
                };
                if (status is { Decided: true } or null)
                {
                    return status;
                }

                if (mode == ResultMode.Poll)
                {
                    await Task.Delay(PollInterval, cancellationToken);
                }
            }
            catch (Exception e) when (e is HttpRequestException or JsonException or IOException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                await Task.Delay(RetryPause, cancellationToken);
            }
        }

        return null;
    }

    /// <summary>Asks the issue request itself to wait for the outcome, when that is how this client learns it.</summary>
    public void PreferWaitOn(HttpRequestMessage issueRequest, long deadline)
    {
        if (mode == ResultMode.Wait)
        {
            issueRequest.Headers.TryAddWithoutValidation("Prefer", $"wait={WaitSeconds(deadline)}");
        }
    }

    private static int WaitSeconds(long deadline) =>
        (int)Math.Clamp(Math.Ceiling(Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline).TotalSeconds), 1, MaxWaitSeconds);

    /// <summary>The request's state; null when the API does not know it (404).</summary>
    private async Task<RequestStatusView?> GetAsync(Uri uri, string authorization, int? waitSeconds, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.TryAddWithoutValidation("Authorization", authorization);
        if (waitSeconds is { } seconds)
        {
            request.Headers.TryAddWithoutValidation("Prefer", $"wait={seconds}");
        }

        using var response = await http.SendAsync(request, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync(ApiJson.Default.RequestStatusView, cancellationToken);
    }

    /// <summary>Reads the stream to its 'decided' event; a stream that ends without one is read as still pending.</summary>
    private async Task<RequestStatusView?> StreamAsync(Uri uri, string authorization, long deadline, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.TryAddWithoutValidation("Authorization", authorization);
        request.Headers.TryAddWithoutValidation("Accept", "text/event-stream");
        using var until = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        until.CancelAfter(Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline));
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, until.Token);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        response.EnsureSuccessStatusCode();
        await using var stream = await response.Content.ReadAsStreamAsync(until.Token);
        await foreach (var item in SseParser.Create(stream).EnumerateAsync(until.Token))
        {
            if (item.EventType == "decided")
            {
                return JsonSerializer.Deserialize(item.Data, ApiJson.Default.RequestStatusView);
            }
        }

        return Pending;
    }

    /// <summary>What a stream that ended early says: nothing decided yet.</summary>
    private static readonly RequestStatusView Pending = new("", 0, 0, RequestStatusView.Pending, null, null, default, null);
}
