using System.Diagnostics;
using System.Globalization;
using CouponAspire.Api.Coupons;
using CouponAspire.Api.Policies;
using CouponAspire.Api.Requests;
using Microsoft.Extensions.DependencyInjection;

namespace CouponAspire.Tests.AppHost;

/// <summary>The system as the AppHost runs it, through its front door: the API, the replicas, the dashboard.</summary>
[Collection(RunningAppHostCollection.Name)]
public sealed class RunningSystemTests(RunningAppHost system)
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    [Fact(Timeout = Timeouts.AppHost)]
    public async Task Every_resource_of_the_system_is_running_and_healthy()
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(Patience);
        var expected = new HashSet<string> { "postgres", "coupondb", "kafka", "kafka-mock", "api" };
        var healthy = new HashSet<string>();
        var replicas = new HashSet<string>();

        await foreach (var update in system.Watch(timeout.Token))
        {
            var name = update.Resource.Name;
            if (RunningAppHost.IsRunningAndHealthy(update.Snapshot) && (expected.Contains(name) || name == "consumer"))
            {
                (name == "consumer" ? replicas : healthy).Add(name == "consumer" ? update.ResourceId : name);
            }

            if (healthy.IsSupersetOf(expected) && replicas.Count == RunningAppHost.ConsumerReplicas)
            {
                break;
            }
        }

        healthy.ShouldBe(expected, ignoreOrder: true);
        replicas.Count.ShouldBe(RunningAppHost.ConsumerReplicas);
        replicas.ShouldAllBe(id => id.StartsWith("consumer-", StringComparison.Ordinal));
    }

    [Fact(Timeout = Timeouts.AppHost)]
    public async Task A_flash_sale_over_several_policies_with_three_consumer_replicas_keeps_every_invariant()
    {
        long[] policies = [await system.CreatePolicyAsync(150), await system.CreatePolicyAsync(60), await system.CreatePolicyAsync(400), await system.CreatePolicyAsync(25)];

        var sale = await FlashSale.RunAsync(system.TryRequestAsync, policies, count: 3000, users: 900, concurrency: 32, seed: 12);

        sale.Accepted.ShouldNotBeEmpty();
        await Invariants.AssertAllHoldAsync(system.Database, system.KafkaBootstrapServers, policies, sale.Accepted, Patience);
        foreach (var policy in policies)
        {
            var quantity = await system.Database.ScalarAsync<int>("SELECT total_quantity FROM coupon_policies WHERE id = $1", policy);
            (await system.Database.ScalarAsync<long>("SELECT count(*) FROM coupons WHERE policy_id = $1", policy)).ShouldBe(quantity, $"policy {policy} sold out");
        }

        // The replicas share the partitions: each holds some, none holds another's.
        var assignments = new List<HashSet<int>>();
        foreach (var replica in await system.ConsumerReplicaIdsAsync(TestContext.Current.CancellationToken))
        {
            assignments.Add(ConsumerAssignment.Replay(await system.LogsOfAsync(replica)));
        }

        assignments.ShouldAllBe(partitions => partitions.Count > 0);
        assignments.SelectMany(p => p).Order().ShouldBe(Enumerable.Range(0, RunningAppHost.Partitions), "every partition is held by exactly one replica");
    }

    [Fact(Timeout = Timeouts.AppHost)]
    public async Task A_consumer_replica_stopped_and_started_again_while_the_sale_is_decided_loses_and_duplicates_nothing()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var policies = new long[8];
        for (var i = 0; i < policies.Length; i++)
        {
            policies[i] = await system.CreatePolicyAsync(300);
        }

        var progress = new SaleProgress(planned: 9000);
        var sale = FlashSale.RunAsync(system.TryRequestAsync, policies, count: 9000, users: 6000, concurrency: 8, seed: 13, progress);

        // Stop the replica holding the most of the sale's partitions once decisions are under way there.
        await Eventually.UntilAsync(async () => await DecidedAsync(policies) >= 200, "200 decisions of the sale", Patience);
        var salePartitions = (await system.Database.ListAsync<int>("SELECT DISTINCT kafka_partition FROM request_outcomes WHERE policy_id = ANY($1)", policies)).ToHashSet();
        var replicas = await system.ConsumerReplicaIdsAsync(cancellationToken);
        var held = new Dictionary<string, HashSet<int>>();
        foreach (var replica in replicas)
        {
            held[replica] = ConsumerAssignment.Replay(await system.LogsOfAsync(replica));
        }

        var victim = replicas.MaxBy(r => held[r].Count(salePartitions.Contains))!;
        var commands = system.App.Services.GetRequiredService<ResourceCommandService>();

        // The stop goes in at a moment when some accepted requests are not decided yet (the consumers keep close behind).
        long decidedAtStop = 0;
        await Eventually.UntilAsync(
            async () =>
            {
                // Counted before the decisions, so that a request counted accepted here was accepted before they were read.
                var accepted = progress.Accepted;
                return (decidedAtStop = await DecidedAsync(policies)) < accepted;
            },
            "a moment with accepted requests not yet decided",
            Patience);
        (await commands.ExecuteCommandAsync(victim, KnownResourceCommands.StopCommand, cancellationToken)).Success.ShouldBeTrue();
        await system.WaitForReplicaAsync(victim, snapshot => KnownResourceStates.TerminalStates.Contains(snapshot.State?.Text), Patience);

        // The others take its partitions over and go on deciding; then it comes back and gets its share again.
        await Eventually.UntilAsync(async () => await DecidedAsync(policies) >= decidedAtStop + 500, "the other replicas to take over and decide 500 more", Patience);
        var restartedAt = DateTimeOffset.UtcNow;
        (await commands.ExecuteCommandAsync(victim, KnownResourceCommands.StartCommand, cancellationToken)).Success.ShouldBeTrue();
        await system.WaitForReplicaAsync(victim, RunningAppHost.IsRunningAndHealthy, Patience);
        await Eventually.UntilAsync(
            async () => (await system.LogsOfAsync(victim)).Any(line => line.Contains("Assigned partition(s)") && LoggedAt(line) >= restartedAt),
            "the restarted replica to be assigned partitions again",
            Patience);
        var result = await sale;

        held[victim].Count(salePartitions.Contains).ShouldBeGreaterThan(0, "the stopped replica held partitions of the sale");
        await Invariants.AssertAllHoldAsync(system.Database, system.KafkaBootstrapServers, policies, result.Accepted, Patience);
    }

    [Fact(Timeout = Timeouts.AppHost)]
    public async Task One_request_is_one_trace_in_the_dashboard_from_the_api_through_kafka_to_a_consumer_replica_its_database_work_and_back_to_the_waiting_client()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var policy = await system.CreatePolicyAsync(100);
        using var dashboard = await DashboardTelemetry.ConnectAsync((await system.App.GetDashboardUrlAsync(cancellationToken))!, cancellationToken);

        // The services export spans in batches from a bounded queue, which drops spans while the dashboard cannot keep up
        // (right after a sale, say). So requests are sent, each in a trace of its own and each client waiting for its
        // result in another, until the dashboard has one whole: a decision read before its client began to wait has no
        // one to be delivered to, and is sent again too.
        List<DashboardSpan> trace = [];
        List<DashboardSpan> waited = [];
        var requestId = "";
        var user = 4200L;
        await Eventually.UntilAsync(
            async () =>
            {
                var traceId = ActivityTraceId.CreateRandom().ToHexString();
                var waitTraceId = ActivityTraceId.CreateRandom().ToHexString();
                using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/coupon-policies/{policy}/requests") { Content = JsonContent.Create(new { userId = ++user }) };
                request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
                using var response = await system.Api.SendAsync(request, cancellationToken);
                response.StatusCode.ShouldBe(HttpStatusCode.Accepted);
                requestId = (await response.Content.ReadFromJsonAsync<CouponRequestAccepted>(cancellationToken))!.RequestId;
                using var wait = new HttpRequestMessage(HttpMethod.Get, response.Headers.Location);
                wait.Headers.Add("traceparent", $"00-{waitTraceId}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
                wait.Headers.Add("Prefer", "wait=10");
                using var answer = await system.Api.SendAsync(wait, cancellationToken);
                (await answer.Content.ReadFromJsonAsync<CouponRequestStatus>(cancellationToken))!.Status.ShouldBe("Issued");

                // Each service exports on its own schedule: wait a while for the API's spans and the consumer's alike.
                return await Eventually.HoldsWithinAsync(
                    async () =>
                    {
                        trace = await dashboard.TraceAsync(traceId, cancellationToken);
                        waited = await dashboard.TraceAsync(waitTraceId, cancellationToken);
                        return trace.Any(s => s.Kind == DashboardSpan.Server) && trace.Any(s => s.Name == "coupon-events publish")
                            && trace.Any(s => s.Name == "coupon-events process") && trace.Any(s => s.Scope == "Npgsql" && s.Service == "consumer")
                            && trace.Any(s => s.Name == "coupon-decisions process" && s.Service == "api") && waited.Any(s => s.Kind == DashboardSpan.Server);
                    },
                    TimeSpan.FromSeconds(15));
            },
            "the dashboard to receive every span of one request, its decision's delivery included",
            Patience,
            () => Task.FromResult($"The last one had {string.Join(", ", trace.Select(s => $"{s.Service}: {s.Name}"))}."));

        var server = trace.Single(s => s.Kind == DashboardSpan.Server);
        var publish = trace.Single(s => s.Name == "coupon-events publish");
        var process = trace.Single(s => s.Name == "coupon-events process");
        var decisionPublish = trace.Single(s => s.Name == "coupon-decisions publish");
        var delivery = trace.Single(s => s.Name == "coupon-decisions process");
        server.ShouldSatisfyAllConditions(
            () => server.Service.ShouldBe("api"),
            () => server.Attributes["http.route"].ShouldBe("/api/coupon-policies/{policyId}/requests"));
        publish.ShouldSatisfyAllConditions(
            () => publish.Service.ShouldBe("api"),
            () => publish.Kind.ShouldBe(DashboardSpan.Producer),
            () => publish.ParentSpanId.ShouldBe(server.SpanId),
            () => publish.Attributes["messaging.kafka.message.key"].ShouldBe(policy.ToString(CultureInfo.InvariantCulture)));
        var replicas = await system.ConsumerReplicaIdsAsync(cancellationToken);
        process.ShouldSatisfyAllConditions(
            () => process.Service.ShouldBe("consumer"),
            () => replicas.ShouldContain($"consumer-{process.Instance}", "the span comes from one of the replicas"),
            () => process.Kind.ShouldBe(DashboardSpan.Consumer),
            () => process.ParentSpanId.ShouldBe(publish.SpanId),
            () => process.Attributes["messaging.kafka.message.key"].ShouldBe(policy.ToString(CultureInfo.InvariantCulture)),
            () => process.Attributes["messaging.destination.partition.id"].ShouldBe(publish.Attributes["messaging.destination.partition.id"]),
            () => process.Attributes["messaging.consumer.group.name"].ShouldBe("coupon-service-group"),
            () => process.Attributes["coupon.request_id"].ShouldBe(requestId.ToString()),
            () => process.Attributes["coupon.user_id"].ShouldBe(user.ToString(CultureInfo.InvariantCulture)),
            () => process.Attributes["coupon.outcome"].ShouldBe("Issued"));

        // A lone request is decided in a batch of one, in its own trace: its database statements hang under its processing,
        // beside the publish of its decision, which the API then delivers to the client waiting for it.
        var databaseWork = trace.Where(s => s.ParentSpanId == process.SpanId && s.Scope == "Npgsql").ToList();
        databaseWork.ShouldNotBeEmpty();
        databaseWork.ShouldAllBe(s => s.Attributes["db.namespace"] == "coupondb" && s.Instance == process.Instance);
        decisionPublish.ShouldSatisfyAllConditions(
            () => decisionPublish.Service.ShouldBe("consumer"),
            () => decisionPublish.ParentSpanId.ShouldBe(process.SpanId),
            () => decisionPublish.Attributes["messaging.destination.name"].ShouldBe("coupon-decisions"));
        delivery.ShouldSatisfyAllConditions(
            () => delivery.Service.ShouldBe("api"),
            () => delivery.ParentSpanId.ShouldBe(decisionPublish.SpanId),
            () => delivery.Attributes["coupon.request_id"].ShouldBe(requestId));
        waited.Single(s => s.Kind == DashboardSpan.Server).Links.ShouldContain(link => link.SpanId == decisionPublish.SpanId, "the waiting client's request links to the decision it was answered with");
    }

    [Fact(Timeout = Timeouts.AppHost)]
    public async Task The_load_generator_started_from_the_dashboard_runs_a_sale_that_keeps_every_invariant()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var loadgen = await system.ResourceIdAsync("loadgen", cancellationToken);

        // The dashboard's Start button runs this command.
        var started = await system.App.Services.GetRequiredService<ResourceCommandService>().ExecuteCommandAsync(loadgen, KnownResourceCommands.StartCommand, cancellationToken);
        started.Success.ShouldBeTrue(started.Message);
        CustomResourceSnapshot? finished = null;
        await system.WaitForReplicaAsync(loadgen, snapshot => KnownResourceStates.TerminalStates.Contains((finished = snapshot).State?.Text), Patience);

        var output = await system.LogsOfAsync(loadgen);
        finished!.ExitCode.ShouldBe(0, string.Join(Environment.NewLine, output.TakeLast(30)));
        output.ShouldContain(line => line.Contains("The sale held: every invariant holds, and every policy's order."));
    }

    [Fact(Timeout = Timeouts.AppHost)]
    public async Task The_ordering_audit_command_judges_every_decided_policy_and_names_one_whose_outcomes_were_tampered_with()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        long[] policies = [await system.CreatePolicyAsync(40), await system.CreatePolicyAsync(60)];
        var sale = await FlashSale.RunAsync(system.TryRequestAsync, policies, count: 600, users: 300, concurrency: 16, seed: 21);
        await Invariants.AssertAllHoldAsync(system.Database, system.KafkaBootstrapServers, policies, sale.Accepted, Patience);
        var kafka = await system.ResourceIdAsync("kafka", cancellationToken);
        var commands = system.App.Services.GetRequiredService<ResourceCommandService>();

        var audit = await commands.ExecuteCommandAsync(kafka, "audit-ordering", cancellationToken);

        audit.Success.ShouldBeTrue(audit.Message);
        var decidedPolicies = await system.Database.ScalarAsync<long>("SELECT count(DISTINCT policy_id) FROM request_outcomes");
        var decided = await system.Database.ScalarAsync<long>("SELECT count(*) FROM request_outcomes WHERE outcome <> 'Withdrawn'");
        audit.Message.ShouldBe(string.Create(CultureInfo.InvariantCulture, $"Ordering audit: {decidedPolicies:N0} policies, {decided:N0} requests, 0 violation(s)"));
        await Eventually.UntilAsync(
            async () => (await system.LogsOfAsync(kafka)).Any(line => line.Contains($"{policies[0],8} ", StringComparison.Ordinal) && line.EndsWith("ok", StringComparison.Ordinal)),
            "the audit's row for the sale's first policy in the kafka resource's console",
            Patience);

        // The last winner of the first policy loses, and the first request refused as sold out wins in its place.
        var tampered = policies[0];
        var loser = await system.Database.ScalarAsync<string>(
            "SELECT request_id FROM request_outcomes WHERE policy_id = $1 AND outcome = 'Issued' ORDER BY kafka_offset DESC LIMIT 1", tampered);
        var winner = await system.Database.ScalarAsync<string>(
            "SELECT request_id FROM request_outcomes WHERE policy_id = $1 AND outcome = 'SoldOut' ORDER BY kafka_offset LIMIT 1", tampered);
        await system.Database.ScalarAsync<object?>(
            "UPDATE request_outcomes SET outcome = CASE WHEN request_id = $1 THEN 'SoldOut' ELSE 'Issued' END WHERE request_id IN ($1, $2)", loser, winner);
        try
        {
            var failed = await commands.ExecuteCommandAsync(kafka, "audit-ordering", cancellationToken);

            failed.Success.ShouldBeFalse();
            failed.Message.ShouldNotBeNull().ShouldContain("2 violation(s) in policy " + tampered.ToString(CultureInfo.InvariantCulture));
        }
        finally
        {
            await system.Database.ScalarAsync<object?>(
                "UPDATE request_outcomes SET outcome = CASE WHEN request_id = $1 THEN 'Issued' ELSE 'SoldOut' END WHERE request_id IN ($1, $2)", loser, winner);
        }
    }

    [Fact(Timeout = Timeouts.AppHost)]
    public async Task A_clean_start_and_a_held_sale_leave_no_error_in_the_dashboards_logs()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        long[] policies = [await system.CreatePolicyAsync(80), await system.CreatePolicyAsync(30)];
        var sale = await FlashSale.RunAsync(system.TryRequestAsync, policies, count: 800, users: 400, concurrency: 16, seed: 33);
        await Invariants.AssertAllHoldAsync(system.Database, system.KafkaBootstrapServers, policies, sale.Accepted, Patience);
        using var dashboard = await DashboardTelemetry.ConnectAsync((await system.App.GetDashboardUrlAsync(cancellationToken))!, cancellationToken);

        // The dashboard has the logs of the start: every consumer replica passed through joining the group, a state logged
        // as a warning (its health check Degraded), and the API's publisher said it was ready.
        List<DashboardLog> logs = [];
        await Eventually.UntilAsync(
            async () =>
            {
                logs = await dashboard.LogsAsync(cancellationToken);
                return logs.Where(l => l.Service == "consumer" && l.SeverityNumber is >= DashboardLog.Warning and < DashboardLog.Error && l.Message.Contains("consume-loop", StringComparison.Ordinal))
                        .Select(l => l.Instance).Distinct().Count() == RunningAppHost.ConsumerReplicas
                    && logs.Any(l => l.Service == "api" && l.Message.StartsWith("Publisher ready", StringComparison.Ordinal));
            },
            "the start's logs of every consumer replica and of the API in the dashboard",
            Patience,
            () => Task.FromResult($"{logs.Count} records; warnings and worse:{Environment.NewLine}" + string.Join(Environment.NewLine, logs.Where(l => l.SeverityNumber >= DashboardLog.Warning).Take(20))
                + $"{Environment.NewLine}records by service and instance: " + string.Join(", ", logs.GroupBy(l => (l.Service, l.Instance)).Select(g => $"{g.Key} {g.Count()}"))));

        logs.Where(l => l.SeverityNumber >= DashboardLog.Error).ShouldBeEmpty();
    }

    private Task<long> DecidedAsync(long[] policies) =>
        system.Database.ScalarAsync<long>("SELECT count(*) FROM request_outcomes WHERE policy_id = ANY($1)", policies);

    /// <summary>When the orchestrator received a line of a resource's console (each line starts with it).</summary>
    private static DateTimeOffset LoggedAt(string line) =>
        DateTimeOffset.TryParse(line.AsSpan(0, Math.Min(line.Length, 28)), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : DateTimeOffset.MinValue;

}
