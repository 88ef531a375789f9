using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Sockets;
using CouponAspire.Api.Requests;
using CouponAspire.Contracts.Events;
using CouponAspire.LocalInfrastructure;

namespace CouponAspire.Tests.Faults;

/// <summary>The API process dying outright in the middle of a flash sale.</summary>
[Collection(FaultCollection.Name)]
public sealed class ApiFaultTests(PostgresFixture postgres)
{
    [Fact(Timeout = Timeouts.Fault)]
    public async Task The_API_killed_with_requests_published_and_not_yet_answered_and_started_again_loses_nothing_in_the_log()
    {
        await using var system = await CouponSystem.StartAsync(postgres, partitions: 6, consumers: 2);
        long[] policies = [await system.CreatePolicyAsync(150), await system.CreatePolicyAsync(80), await system.CreatePolicyAsync(100_000)];
        var port = FreePort();
        var health = new Uri($"http://127.0.0.1:{port}/health");
        var api = system.StartApiProcess("api-1", port);
        await api.WaitUntilHealthyAsync(health, FaultDrill.Patience, TestContext.Current.CancellationToken);
        var crowd = new Crowd(system, new Uri($"http://127.0.0.1:{port}"), policies);
        var sale = crowd.RunAsync(concurrency: 64);
        ServiceProcess? restarted = null;

        try
        {
            // Requests decided, and more accepted than decided: the pipeline is full from the client to the database.
            await Eventually.UntilAsync(
                async () => crowd.Accepted.Count >= 500 && await DecidedAsync(system) is var decided and >= 100 && decided < crowd.Accepted.Count,
                "the sale to be under way, accepted requests waiting to be decided",
                FaultDrill.Patience);

            // Frozen first, so that what it sent the brokers is in the log while the answers wait in the frozen process;
            // then killed where it stands. Its clients get no answer for those and do not ask again. Answers it wrote
            // before it froze still reach the crowd from the kernel's buffers: the same requests unanswered in two reads of
            // the log in a row are the ones whose answers are in the frozen process. A freeze that met none (no publish
            // between the broker and the API at that instant) is let go, and the API frozen again.
            HashSet<string> unanswered = [];
            await Eventually.UntilAsync(
                () =>
                {
                    crowd.ExpectOutage();
                    api.Freeze();
                    HashSet<string> before;
                    do
                    {
                        before = unanswered;
                        unanswered = Unanswered(system, crowd);
                    }
                    while (!unanswered.SetEquals(before));

                    if (unanswered.Count > 0)
                    {
                        return true;
                    }

                    api.Thaw();
                    crowd.EndOutage();
                    return false;
                },
                "a freeze that meets requests in the log that the API has not answered",
                FaultDrill.Patience);
            var acceptedAtKill = crowd.Accepted.Count;
            var decidedAtKill = await DecidedAsync(system);
            api.KillHard();
            TestContext.Current.TestOutputHelper?.WriteLine(
                $"Killed with {acceptedAtKill} accepted, {decidedAtKill} decided, {unanswered.Count} published and not answered.");

            restarted = system.StartApiProcess("api-2", port);
            await restarted.WaitUntilHealthyAsync(health, FaultDrill.Patience, TestContext.Current.CancellationToken);
            crowd.EndOutage();
            await Eventually.UntilAsync(
                async () => crowd.Accepted.Count >= acceptedAtKill + 300 && await DecidedAsync(system) >= decidedAtKill + 300,
                "the sale to go on through the restarted API",
                FaultDrill.Patience);
            crowd.Stop();
            await sale;

            // The kill met requests in flight: in the log, and never answered (no 202 can come for them after the kill).
            var log = system.PublishedRequests();
            var answered = crowd.Accepted.Select(a => a.RequestId).ToHashSet();
            var publishedNotAnswered = log.Where(r => !answered.Contains(r.RequestId)).Select(r => r.RequestId).ToArray();
            publishedNotAnswered.ShouldNotBeEmpty("the kill met requests published and not yet answered");
            var logged = log.Select(r => r.RequestId).ToHashSet();
            answered.Where(id => !logged.Contains(id)).ShouldBeEmpty("answered 202 but not in the log");

            // Every request in the log decided once (the unanswered ones included), first come first served over the whole
            // log, no coupon twice: the invariants, with the log's requests as those to be decided.
            await Invariants.AssertAllHoldAsync(system, [.. log.Select(r => new AcceptedRequest(r.RequestId, r.PolicyId, r.UserId))], FaultDrill.Patience);
        }
        finally
        {
            crowd.Stop();
            await sale.ContinueWith(_ => { }, TaskScheduler.Default);
            await api.DisposeAsync();
            if (restarted is not null)
            {
                await restarted.DisposeAsync();
            }
        }
    }

    [Fact(Timeout = Timeouts.Fault)]
    public async Task An_api_instance_killed_while_its_clients_wait_leaves_them_to_another_instance_which_answers_them()
    {
        await using var system = await CouponSystem.StartAsync(postgres, partitions: 3, consumers: 0);
        var policy = await system.CreatePolicyAsync(totalQuantity: 15);
        var (portA, portB) = (FreePort(), FreePort());
        await using var a = system.StartApiProcess("api-a", portA);
        await using var b = system.StartApiProcess("api-b", portB);
        await a.WaitUntilHealthyAsync(new Uri($"http://127.0.0.1:{portA}/health"), FaultDrill.Patience, TestContext.Current.CancellationToken);
        await b.WaitUntilHealthyAsync(new Uri($"http://127.0.0.1:{portB}/health"), FaultDrill.Patience, TestContext.Current.CancellationToken);
        using var atA = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{portA}") };
        using var atB = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{portB}") };

        // Twenty users ask through A and wait there, on their requests' streams; no consumer runs yet, so every one of
        // them is still waiting when A dies.
        var users = Enumerable.Range(1, 20).Select(u => 5_000L + u).ToArray();
        var requestIds = new Dictionary<long, string>();
        foreach (var user in users)
        {
            using var ask = new HttpRequestMessage(HttpMethod.Post, $"/api/coupon-policies/{policy}/requests") { Content = JsonContent.Create(new { }) };
            ask.Headers.Authorization = new AuthenticationHeaderValue("Bearer", system.Tokens.ForUser(user));
            using var accepted = await atA.SendAsync(ask, TestContext.Current.CancellationToken);
            accepted.StatusCode.ShouldBe(HttpStatusCode.Accepted);
            requestIds[user] = (await accepted.Content.ReadFromJsonAsync<CouponRequestAccepted>(TestContext.Current.CancellationToken))!.RequestId;
        }

        var streams = new List<(long User, HttpResponseMessage Response, StreamReader Events)>();
        foreach (var user in users)
        {
            var watch = new HttpRequestMessage(HttpMethod.Get, $"/api/coupon-requests/{requestIds[user]}/events");
            watch.Headers.Authorization = new AuthenticationHeaderValue("Bearer", system.Tokens.ForUser(user));
            var response = await atA.SendAsync(watch, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
            var events = new StreamReader(await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken));
            (await events.ReadLineAsync(TestContext.Current.CancellationToken)).ShouldBe("event: pending", "the client is waiting at A");
            streams.Add((user, response, events));
        }

        a.KillHard();

        // Every stream was cut: the kill met all twenty clients waiting.
        var cut = 0;
        foreach (var (_, response, events) in streams)
        {
            try
            {
                while (await events.ReadLineAsync(TestContext.Current.CancellationToken) is not null)
                {
                }
            }
            catch (IOException)
            {
            }

            cut++;
            events.Dispose();
            response.Dispose();
        }

        cut.ShouldBe(users.Length);

        // They ask B, and wait there for their result; the requests are decided now.
        var waits = users.Select(async user =>
        {
            using var wait = new HttpRequestMessage(HttpMethod.Get, $"/api/coupon-requests/{requestIds[user]}?wait=30");
            wait.Headers.Authorization = new AuthenticationHeaderValue("Bearer", system.Tokens.ForUser(user));
            using var answer = await atB.SendAsync(wait, TestContext.Current.CancellationToken);
            answer.StatusCode.ShouldBe(HttpStatusCode.OK);
            return (await answer.Content.ReadFromJsonAsync<CouponRequestStatus>(TestContext.Current.CancellationToken))!;
        }).ToList();
        system.AddConsumer();
        var results = await Task.WhenAll(waits);

        results.Select(r => r.Reason ?? r.Status).ShouldBe(Enumerable.Repeat("Issued", 15).Concat(Enumerable.Repeat("SoldOut", 5)), ignoreOrder: true);
        results.ShouldAllBe(r => r.DecidedAt != null);
        await Invariants.AssertAllHoldAsync(system, [.. users.Select(u => new AcceptedRequest(requestIds[u], policy, u))], FaultDrill.Patience);
    }

    private static Task<long> DecidedAsync(CouponSystem system) =>
        system.Database.ScalarAsync<long>("SELECT count(*) FROM request_outcomes WHERE outcome <> 'Withdrawn'");

    private static HashSet<string> Unanswered(CouponSystem system, Crowd crowd)
    {
        var answered = crowd.Accepted.Select(a => a.RequestId).ToHashSet();
        return [.. KafkaLog.ReadAll(system.Kafka.BootstrapServers, CouponTopics.Requests)
            .Select(m => CouponRequestedCodec.TryDecode(m.Message.Key, m.Message.Value, out var request, out _) ? request.RequestId : null)
            .OfType<string>()
            .Where(id => !answered.Contains(id))];
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// Users asking once each, a new user every request, over the policies in turn. A request that gets no answer (the
    /// API died under it) is not sent again, as a client that gave up would not; while the API is known to be down the
    /// crowd waits for it to come back rather than spin on refused connections.
    /// </summary>
    private sealed class Crowd(CouponSystem system, Uri api, IReadOnlyList<long> policies)
    {
        private readonly HttpClient _http = new() { BaseAddress = api, Timeout = TimeSpan.FromSeconds(30) };
        private TaskCompletionSource _up = CompletedSource();
        private long _nextUser = 1_000_000;
        private int _unanswered;
        private volatile bool _stopped;

        public ConcurrentBag<AcceptedRequest> Accepted { get; } = [];
        public int Unanswered => Volatile.Read(ref _unanswered);

        public void ExpectOutage() => _up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        public void EndOutage() => _up.TrySetResult();
        public void Stop()
        {
            _stopped = true;
            EndOutage();
        }

        public async Task RunAsync(int concurrency)
        {
            try
            {
                await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(WorkAsync)));
            }
            finally
            {
                _http.Dispose();
            }
        }

        private async Task WorkAsync()
        {
            while (!_stopped)
            {
                var user = Interlocked.Increment(ref _nextUser);
                var policy = policies[(int)(user % policies.Count)];
                using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/coupon-policies/{policy}/requests") { Content = JsonContent.Create(new { }) };
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", system.Tokens.ForUser(user));
                var waitFor = _up.Task;
                try
                {
                    using var response = await _http.SendAsync(request);
                    if (response.StatusCode == HttpStatusCode.Accepted)
                    {
                        var accepted = (await response.Content.ReadFromJsonAsync<CouponRequestAccepted>())!;
                        Accepted.Add(new AcceptedRequest(accepted.RequestId, policy, user));
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
                {
                    Interlocked.Increment(ref _unanswered);
                    await waitFor;
                }
            }
        }

        private static TaskCompletionSource CompletedSource()
        {
            var source = new TaskCompletionSource();
            source.SetResult();
            return source;
        }
    }
}
