using System.Collections.Concurrent;
using CouponAspire.Api.Requests;
using CouponAspire.Contracts.Events;
using Microsoft.Extensions.DependencyInjection;

namespace CouponAspire.Tests.AppHost;

/// <summary>
/// The API scaled out under the AppHost (<c>ApiReplicas</c>): two processes behind the orchestrator's proxy, sharing
/// the request-id key, the database and the cluster.
/// </summary>
[Collection(ScaledOutAppHostCollection.Name)]
public sealed class ScaledOutApiTests(ScaledOutAppHost system)
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    [Fact(Timeout = Timeouts.AppHost)]
    public async Task Either_instance_answers_for_requests_the_other_accepted_and_both_refuse_a_sold_out_policy()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var (first, second) = await InstancesAsync(cancellationToken);
        using var atFirst = await ClientOfAsync(first);
        using var atSecond = await ClientOfAsync(second);
        var policy = await system.CreatePolicyAsync(3);

        // Five users at the first instance: three coupons, then sold out.
        var accepted = new List<CouponRequestAccepted>();
        for (var user = 1; user <= 5; user++)
        {
            using var response = await atFirst.PostAsJsonAsync($"/api/coupon-policies/{policy}/requests", new { userId = user }, cancellationToken);
            response.StatusCode.ShouldBe(HttpStatusCode.Accepted);
            accepted.Add((await response.Content.ReadFromJsonAsync<CouponRequestAccepted>(cancellationToken))!);
        }

        // The second instance reads the first's ids: Pending or decided, never unknown; once decided, the same answer.
        foreach (var request in accepted)
        {
            var status = await StatusAsync(atSecond, request.RequestId);
            status.ShouldNotBeNull($"the second instance knows {request.RequestId}").RequestId.ShouldBe(request.RequestId);
        }

        await Decisions.WaitUntilDecidedAsync(system.Database, system.KafkaBootstrapServers, [.. accepted.Select(a => a.RequestId)], Patience);
        var answers = new List<string>();
        foreach (var request in accepted)
        {
            var here = (await StatusAsync(atSecond, request.RequestId)).ShouldNotBeNull();
            var there = (await StatusAsync(atFirst, request.RequestId)).ShouldNotBeNull();
            here.ShouldBe(there, "both instances answer a decided request alike");
            answers.Add(here.Reason ?? here.Status);
        }

        answers.ShouldBe([RequestStatuses.Issued, RequestStatuses.Issued, RequestStatuses.Issued, "SoldOut", "SoldOut"]);

        // An id neither made, and one of the first's with a letter changed, read as unknown at the second.
        (await StatusAsync(atSecond, "not-an-id-of-this-api")).ShouldBeNull();
        var id = accepted[0].RequestId;
        (await StatusAsync(atSecond, id[..^1] + (id[^1] == 'A' ? 'B' : 'A'))).ShouldBeNull();

        // Each instance's sold-out gate learns it from the database: a new user is refused at both.
        foreach (var (instance, user) in new[] { (atFirst, 6), (atSecond, 7) })
        {
            await Eventually.UntilAsync(
                async () =>
                {
                    using var response = await instance.PostAsJsonAsync($"/api/coupon-policies/{policy}/requests", new { userId = user }, cancellationToken);
                    return response.StatusCode == HttpStatusCode.Conflict;
                },
                $"instance at {instance.BaseAddress} to refuse the sold-out policy",
                Patience);
        }
    }

    [Fact(Timeout = Timeouts.AppHost)]
    public async Task An_API_instance_stopped_in_the_middle_of_a_sale_leaves_the_sale_to_the_other_and_nothing_is_lost()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var (victim, _) = await InstancesAsync(cancellationToken);
        long[] policies = [await system.CreatePolicyAsync(400), await system.CreatePolicyAsync(150), await system.CreatePolicyAsync(100_000)];
        var commands = system.App.Services.GetRequiredService<ResourceCommandService>();
        var crowd = new Crowd(system.Api, policies);
        var sale = crowd.RunAsync(concurrency: 16);
        try
        {
            await Eventually.UntilAsync(() => crowd.Accepted.Count >= 500, "500 requests accepted through the proxy", Patience);
            var acceptedAtStop = crowd.Accepted.Count;
            (await commands.ExecuteCommandAsync(victim, KnownResourceCommands.StopCommand, cancellationToken)).Success.ShouldBeTrue();
            await system.WaitForReplicaAsync(victim, snapshot => KnownResourceStates.TerminalStates.Contains(snapshot.State?.Text), Patience);
            var acceptedWhenStopped = crowd.Accepted.Count;

            // The sale goes on through the other instance.
            await Eventually.UntilAsync(() => crowd.Accepted.Count >= acceptedWhenStopped + 1000, "1,000 more accepted with one instance", Patience);
            crowd.Stop();
            await sale;
            TestContext.Current.TestOutputHelper?.WriteLine(
                $"Stopped at {acceptedAtStop} accepted; {crowd.Accepted.Count} in all, {crowd.Unanswered} without an answer.");
            acceptedWhenStopped.ShouldBeGreaterThan(acceptedAtStop, "requests were accepted while the instance stopped: the stop met the sale under way");

            // Every 202 is in the log, and every request in the log — answered or not — is decided once, in order.
            var log = KafkaLog.ReadAll(system.KafkaBootstrapServers, CouponTopics.Requests)
                .Select(m => CouponRequestedCodec.TryDecode(m.Message.Key, m.Message.Value, out var request, out _) ? request : null)
                .OfType<CouponRequested>()
                .Where(r => policies.Contains(r.PolicyId))
                .ToList();
            var logged = log.Select(r => r.RequestId).ToHashSet();
            crowd.Accepted.Where(a => !logged.Contains(a.RequestId)).ShouldBeEmpty("answered 202 but not in the log");
            await Invariants.AssertAllHoldAsync(
                system.Database, system.KafkaBootstrapServers, policies, [.. log.Select(r => new AcceptedRequest(r.RequestId, r.PolicyId, r.UserId))], Patience);
        }
        finally
        {
            crowd.Stop();
            await sale.ContinueWith(_ => { }, TaskScheduler.Default);
            if ((await commands.ExecuteCommandAsync(victim, KnownResourceCommands.StartCommand, cancellationToken)).Success)
            {
                await system.WaitForReplicaAsync(victim, RunningAppHost.IsRunningAndHealthy, Patience);
                (await ClientOfAsync(victim)).Dispose();
            }
        }
    }

    private async Task<(string First, string Second)> InstancesAsync(CancellationToken cancellationToken)
    {
        var instances = await system.ReplicaIdsAsync("api", system.ApiInstances, cancellationToken);
        instances.Count.ShouldBe(2);
        return (instances[0], instances[1]);
    }

    /// <summary>
    /// A client of one instance at its own address, once it answers there: a replica started again listens on a new
    /// port, which its snapshot shows once the orchestrator has it.
    /// </summary>
    private async Task<HttpClient> ClientOfAsync(string instance)
    {
        HttpClient? client = null;
        await Eventually.UntilAsync(
            async () =>
            {
                client?.Dispose();
                client = new HttpClient { BaseAddress = await system.OwnAddressAsync(instance, TestContext.Current.CancellationToken) };
                client.DefaultRequestHeaders.Authorization = system.Api.DefaultRequestHeaders.Authorization;
                try
                {
                    using var health = await client.GetAsync("/health", TestContext.Current.CancellationToken);
                    return health.StatusCode == HttpStatusCode.OK;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            },
            $"{instance} to answer at its own address",
            Patience);
        return client!;
    }

    /// <summary>A request's state at one instance, waiting there for its decision if it has not read it yet.</summary>
    private static async Task<CouponRequestStatus?> StatusAsync(HttpClient client, string requestId)
    {
        using var response = await client.GetAsync($"/api/coupon-requests/{Uri.EscapeDataString(requestId)}?wait=30", TestContext.Current.CancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return await response.Content.ReadFromJsonAsync<CouponRequestStatus>(TestContext.Current.CancellationToken);
    }

    /// <summary>
    /// A new user every request, over the policies in turn, through the proxy with the administrator's client. A request
    /// that gets no answer (its instance stopped under it) is not sent again, as a client that gave up would not.
    /// </summary>
    private sealed class Crowd(HttpClient api, IReadOnlyList<long> policies)
    {
        private long _nextUser = 5_000_000;
        private int _unanswered;
        private volatile bool _stopped;

        public ConcurrentBag<AcceptedRequest> Accepted { get; } = [];
        public int Unanswered => Volatile.Read(ref _unanswered);

        public void Stop() => _stopped = true;

        public Task RunAsync(int concurrency) => Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(WorkAsync)));

        private async Task WorkAsync()
        {
            while (!_stopped)
            {
                var user = Interlocked.Increment(ref _nextUser);
                var policy = policies[(int)(user % policies.Count)];
                try
                {
                    using var response = await api.PostAsJsonAsync($"/api/coupon-policies/{policy}/requests", new { userId = user });
                    if (response.StatusCode == HttpStatusCode.Accepted)
                    {
                        var accepted = (await response.Content.ReadFromJsonAsync<CouponRequestAccepted>())!;
                        Accepted.Add(new AcceptedRequest(accepted.RequestId, policy, user));
                    }
                    else
                    {
                        response.StatusCode.ShouldBeOneOf(HttpStatusCode.Conflict, HttpStatusCode.ServiceUnavailable, HttpStatusCode.BadGateway);
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
                {
                    Interlocked.Increment(ref _unanswered);
                }
            }
        }
    }
}
