using System.Diagnostics;
using System.Net;
using System.Text.Json;

namespace CouponAspire.LoadGenerator;

/// <summary>
/// The flash sale itself: <c>concurrency</c> workers — the crowd's users — started one after another over the ramp, each
/// taking the next request of the plan, sending it with its user's own token, once, and when it is accepted learning its
/// outcome the way a client does (<see cref="ResultReader"/>: from the answer itself when the request waited for it)
/// before taking the next — until the plan is sent or the time is up.
/// </summary>
internal sealed class IssueRequestSender(
    HttpClient http, SalePlan plan, Uri[] requestUris, UserTokens tokens, ResultReader results, TimeSpan decisionTimeout, LiveCounters counters)
{
    /// <summary>Room for any answer of the issue endpoint (a few hundred bytes); a longer one is drained and counted as unreadable.</summary>
    private const int BodyBufferSize = 8 * 1024;

    private static readonly byte[] EmptyObject = "{}"u8.ToArray();

    private readonly SaleRecording _recording = new(plan.Requests, plan.Policies);
    private int _next = -1;

    private long _deadline = long.MaxValue;

    /// <summary>Stopwatch ticks between one request and the next at the asked rate; 0: as fast as the workers go.</summary>
    private double _interval;

    /// <param name="duration">Stop taking new requests after this long; null: when the plan is sent.</param>
    /// <param name="rate">Requests a second at most, paced evenly (request i not before i / rate seconds); null: full speed.</param>
    public async Task<SaleRecording> RunAsync(int concurrency, TimeSpan ramp, TimeSpan? duration, double? rate, CancellationToken cancellationToken)
    {
        _interval = rate is > 0 ? Stopwatch.Frequency / rate.Value : 0;
        counters.StartPhase("sending");
        var processorTime = Process.GetCurrentProcess().TotalProcessorTime;
        _recording.StartedAt = DateTimeOffset.UtcNow;
        _recording.StartTimestamp = Stopwatch.GetTimestamp();
        if (duration is { } limit)
        {
            _deadline = _recording.StartTimestamp + (long)(limit.TotalSeconds * Stopwatch.Frequency);
        }

        var workers = new Task[concurrency];
        for (var worker = 0; worker < concurrency; worker++)
        {
            var delay = TimeSpan.FromTicks(ramp.Ticks * worker / concurrency);
            workers[worker] = Task.Run(() => WorkAsync(delay, cancellationToken), cancellationToken);
        }

        await Task.WhenAll(workers);
        _recording.Duration = Stopwatch.GetElapsedTime(_recording.StartTimestamp);
        _recording.ProcessorTime = Process.GetCurrentProcess().TotalProcessorTime - processorTime;

        // Every index taken was sent; a worker that found the plan exhausted took one past its end.
        _recording.Sent = Math.Min(Volatile.Read(ref _next) + 1, plan.Requests);
        return _recording;
    }

    private async Task WorkAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        if (delay > TimeSpan.Zero)
        {
            await Task.Delay(delay, cancellationToken);
        }

        // One buffer per worker for the answers' bodies, instead of one per answer.
        var buffer = new byte[BodyBufferSize];
        int index;
        while (Stopwatch.GetTimestamp() < _deadline && (index = Interlocked.Increment(ref _next)) < plan.Requests)
        {
            if (_interval > 0 && _recording.StartTimestamp + (long)(index * _interval) - Stopwatch.GetTimestamp() is var early and > 0)
            {
                await Task.Delay(Stopwatch.GetElapsedTime(0, early), cancellationToken);
            }

            await SendAsync(index, buffer, cancellationToken);
        }
    }

    private async Task SendAsync(int index, byte[] buffer, CancellationToken cancellationToken)
    {
        var user = plan.UserOfRequest[index];
        var policy = plan.PolicyOf(user);
        using var request = new HttpRequestMessage(HttpMethod.Post, requestUris[policy]) { Content = new ByteArrayContent(EmptyObject) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
        request.Headers.TryAddWithoutValidation("Authorization", tokens.AuthorizationOf(user));

        var started = Stopwatch.GetTimestamp();
        var deadline = started + (long)(decisionTimeout.TotalSeconds * Stopwatch.Frequency);
        results.PreferWaitOn(request, deadline);
        try
        {
            using (var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken))
            {
                var body = await ReadBodyAsync(response, buffer, cancellationToken);
                _recording.Status[index] = (short)response.StatusCode;
                _recording.LatencyTicks[index] = Stopwatch.GetTimestamp() - started;
                Record(index, policy, response.StatusCode, body.Span, started);
            }

            if (_recording.IsAccepted(index) && _recording.Results[index] is null
                && await results.ReadAsync(_recording.RequestIds[index]!, tokens.AuthorizationOf(user), deadline, cancellationToken) is { Decided: true } result)
            {
                Learnt(index, result, started);
            }
        }
        catch (HttpRequestException e)
        {
            _recording.Details[index] = e.HttpRequestError.ToString();
            _recording.LatencyTicks[index] = Stopwatch.GetTimestamp() - started;
            counters.Failed();
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            _recording.Details[index] = "Timeout";
            _recording.LatencyTicks[index] = Stopwatch.GetTimestamp() - started;
            counters.Failed();
        }
    }

    private void Learnt(int index, RequestStatusView result, long started)
    {
        _recording.Results[index] = result;
        _recording.ClickToResultTicks[index] = Stopwatch.GetTimestamp() - started;
        _recording.ResultAt[index] = DateTimeOffset.UtcNow;
        counters.Decided();
    }

    private void Record(int index, int policy, HttpStatusCode status, ReadOnlySpan<byte> body, long started)
    {
        try
        {
            switch (status)
            {
                // Accepted and decided while the client waited: the body is the request's final state.
                case HttpStatusCode.Created when JsonSerializer.Deserialize(body, ApiJson.Default.RequestStatusView) is { Decided: true, RequestId.Length: > 0 } decided:
                    _recording.RequestIds[index] = decided.RequestId;
                    counters.Accepted();
                    Learnt(index, decided, started);
                    return;
                case HttpStatusCode.Created:
                    Unreadable(index);
                    return;
                case HttpStatusCode.Accepted when IssueAnswer.Read(body).RequestId is { Length: > 0 } requestId:
                    _recording.RequestIds[index] = requestId;
                    counters.Accepted();
                    return;
                case HttpStatusCode.Accepted:
                    Unreadable(index);
                    return;
                case HttpStatusCode.Conflict or HttpStatusCode.ServiceUnavailable:
                    var problem = IssueAnswer.Read(body);
                    _recording.Details[index] = problem.Reason;
                    _recording.RequestIds[index] = problem.RequestId;
                    if (problem.Reason == IssueAnswer.SoldOut)
                    {
                        Interlocked.CompareExchange(ref _recording.FirstSoldOutRefusal[policy], Stopwatch.GetTimestamp(), 0);
                    }

                    counters.Refused();
                    return;
                case HttpStatusCode.TooManyRequests:
                    counters.Refused();
                    return;
                default:
                    counters.Failed();
                    return;
            }
        }
        catch (JsonException)
        {
            Unreadable(index);
        }
    }

    /// <summary>An answer that is not the contract's: counted apart from the status it came with.</summary>
    private void Unreadable(int index)
    {
        _recording.Status[index] = SaleRecording.NoAnswer;
        _recording.Details[index] = "UnreadableBody";
        counters.Failed();
    }

    /// <summary>Reads the whole body (so the connection goes back to the pool) into <paramref name="buffer"/>; empty if it does not fit.</summary>
    private static async Task<ReadOnlyMemory<byte>> ReadBodyAsync(HttpResponseMessage response, byte[] buffer, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var length = 0;
        var overflow = false;
        int read;
        while ((read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
        {
            length += read;
            if (length == buffer.Length)
            {
                (length, overflow) = (0, true);
            }
        }

        return overflow ? ReadOnlyMemory<byte>.Empty : buffer.AsMemory(0, length);
    }
}
