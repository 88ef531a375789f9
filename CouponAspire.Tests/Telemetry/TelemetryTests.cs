using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text;
using Confluent.Kafka;
using CouponAspire.Api.Decisions;
using CouponAspire.Api.Requests;
using CouponAspire.Consumer.Consuming;
using CouponAspire.Contracts.Events;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using OpenTelemetry.Trace;

namespace CouponAspire.Tests.Telemetry;

/// <summary>
/// What the Aspire dashboard shows, taken from the services' own OpenTelemetry pipelines with an in-memory exporter
/// (traces) and from their meters (metrics).
/// </summary>
public sealed class TelemetryTests(PostgresFixture postgres)
{
    [Fact(Timeout = Timeouts.System)]
    public async Task One_request_is_one_trace_from_the_http_request_through_kafka_to_its_decision_its_database_work_and_its_delivery_to_the_waiting_client()
    {
        var exported = new LockedList<Activity>();
        await using var system = await CouponSystem.StartAsync(
            postgres, partitions: 3, consumers: 0, configureServices: services => services.ConfigureOpenTelemetryTracerProvider(t => t.AddInMemoryExporter(exported)));
        var policy = await system.CreatePolicyAsync(10);

        // The client waits for its result before any consumer runs, so that the decision has someone to be delivered to.
        var requestId = (await system.RequestAsync(policy, userId: 77))!;
        var waiting = system.Api.GetAsync($"/api/coupon-requests/{requestId}?wait=30", TestContext.Current.CancellationToken);
        var recent = system.ApiFactory.Services.GetRequiredService<RecentDecisions>();
        await Eventually.UntilAsync(() => recent.Waiting == 1, "the client to be waiting", TimeSpan.FromSeconds(20));
        system.AddConsumer();
        var answer = await waiting;
        (await answer.Content.ReadFromJsonAsync<CouponRequestStatus>(TestContext.Current.CancellationToken))!.Status.ShouldBe("Issued");
        var spans = await WaitForAsync(exported, all => all.Any(s => s.DisplayName == "coupon-decisions process" && Equals(s.GetTagItem("coupon.request_id"), requestId)));

        var publish = spans.Single(s => s.DisplayName == "coupon-events publish" && Equals(s.GetTagItem("coupon.request_id"), requestId));
        var server = spans.Single(s => s.SpanId == publish.ParentSpanId);
        var process = spans.Single(s => s.DisplayName == "coupon-events process" && s.ParentSpanId == publish.SpanId);
        var databaseWork = spans.Where(s => s.ParentSpanId == process.SpanId && s.Source.Name == "Npgsql").ToList();
        var decisionPublish = spans.Single(s => s.DisplayName == "coupon-decisions publish" && s.ParentSpanId == process.SpanId);
        var delivery = spans.Single(s => s.DisplayName == "coupon-decisions process" && s.ParentSpanId == decisionPublish.SpanId);
        var wait = spans.Single(s => s.Kind == ActivityKind.Server && Equals(s.GetTagItem("http.route"), "/api/coupon-requests/{requestId}") && s.TraceId != publish.TraceId
                                     && s.Links.Any(l => l.Context.SpanId == decisionPublish.SpanId));

        server.Kind.ShouldBe(ActivityKind.Server);
        server.GetTagItem("http.route").ShouldBe("/api/coupon-policies/{policyId}/requests");
        publish.Kind.ShouldBe(ActivityKind.Producer);
        process.Kind.ShouldBe(ActivityKind.Consumer);
        new[] { server, publish, process, decisionPublish, delivery }.Select(s => s.TraceId).Distinct().ShouldHaveSingleItem();
        publish.ShouldSatisfyAllConditions(
            () => publish.GetTagItem("messaging.system").ShouldBe("kafka"),
            () => publish.GetTagItem("messaging.destination.name").ShouldBe("coupon-events"),
            () => publish.GetTagItem("messaging.kafka.message.key").ShouldBe(policy.ToString()),
            () => publish.GetTagItem("messaging.destination.partition.id").ShouldNotBeNull(),
            () => publish.GetTagItem("messaging.kafka.offset").ShouldNotBeNull());
        AssertProcessesTheRequest(process, publish, policy, userId: 77, "Issued");
        databaseWork.ShouldNotBeEmpty("a lone request's decision and its database work are in its own trace");
        decisionPublish.ShouldSatisfyAllConditions(
            () => decisionPublish.Kind.ShouldBe(ActivityKind.Producer),
            () => decisionPublish.GetTagItem("messaging.destination.name").ShouldBe("coupon-decisions"),
            () => decisionPublish.GetTagItem("messaging.kafka.message.key").ShouldBe(policy.ToString()),
            () => decisionPublish.GetTagItem("messaging.destination.partition.id").ShouldBe(publish.GetTagItem("messaging.destination.partition.id"), "partitioned as coupon-events"),
            () => decisionPublish.GetTagItem("coupon.outcome").ShouldBe("Issued"));
        delivery.ShouldSatisfyAllConditions(
            () => delivery.Kind.ShouldBe(ActivityKind.Consumer),
            () => delivery.GetTagItem("messaging.destination.name").ShouldBe("coupon-decisions"),
            () => delivery.GetTagItem("coupon.request_id").ShouldBe(requestId));
        wait.GetTagItem("http.response.status_code").ShouldBe(200, "the waiting client's request links to the decision it was answered with");
    }

    [Fact(Timeout = Timeouts.System)]
    public async Task A_batch_has_a_span_linked_to_every_message_with_the_database_work_under_it_and_each_message_links_back()
    {
        var exported = new LockedList<Activity>();
        await using var system = await CouponSystem.StartAsync(
            postgres, partitions: 1, consumers: 0, configureServices: services => services.ConfigureOpenTelemetryTracerProvider(t => t.AddInMemoryExporter(exported)));
        var policy = await system.CreatePolicyAsync(10);

        // Published before any consumer runs, so that the first poll takes them all at once; one of them unreadable.
        var requestIds = new List<string>();
        for (var user = 1; user <= 10; user++)
        {
            requestIds.Add((await system.RequestAsync(policy, user))!);
        }

        var malformedOffset = await ProduceMalformedAsync(system, policy);
        system.AddConsumer();
        await system.WaitUntilDecidedAsync(requestIds);
        var spans = await WaitForAsync(exported, all =>
            requestIds.All(id => all.Any(s => Equals(s.GetTagItem("coupon.request_id"), id) && s.Kind == ActivityKind.Consumer))
            && all.Any(s => s.GetTagItem(DeadLetterPublisher.ReasonTag) is not null));

        // The exporter sees every span of the process, other tests' included: only the spans of this test's messages count.
        var publishes = requestIds.ToDictionary(id => id, id => spans.Single(s => s.DisplayName == "coupon-events publish" && Equals(s.GetTagItem("coupon.request_id"), id)));
        var published = publishes.Values.Select(p => p.SpanId).ToHashSet();
        var batches = spans.Where(s => s.GetTagItem("messaging.batch.message_count") is int && s.Links.Any(l => published.Contains(l.Context.SpanId))).ToDictionary(s => s.SpanId);
        batches.ShouldNotBeEmpty("requests waiting for a consumer are decided in batches");
        var inBatches = 0;
        foreach (var (requestId, user) in requestIds.Select((id, i) => (id, i + 1L)))
        {
            var publish = publishes[requestId];
            var process = spans.Single(s => s.Kind == ActivityKind.Consumer && s.ParentSpanId == publish.SpanId);
            AssertProcessesTheRequest(process, publish, policy, user, "Issued");
            if (process.Links.Any())
            {
                var batch = batches[process.Links.ShouldHaveSingleItem().Context.SpanId];
                batch.Links.ShouldContain(link => link.Context.SpanId == publish.SpanId, "the batch links to every message it decided");
                inBatches++;
            }
        }

        batches.Values.ShouldAllBe(b => (int)b.GetTagItem("messaging.batch.message_count")! == b.Links.Count(), "every trace is sampled here: a batch links to each of its messages");
        batches.Values.Sum(b => (int)b.GetTagItem("messaging.batch.message_count")!).ShouldBe(inBatches, "each message of a batch links to the batch that decided it");
        foreach (var batch in batches.Values)
        {
            var databaseWork = spans.Where(s => s.ParentSpanId == batch.SpanId).ToList();
            databaseWork.ShouldNotBeEmpty("the batch's database transaction hangs under the batch span");
            databaseWork.ShouldAllBe(s => s.Source.Name == "Npgsql");
        }

        var deadLetter = KafkaLog.ReadAll(system.Kafka.BootstrapServers, CouponTopics.DeadLetters).ShouldHaveSingleItem();
        var reason = Encoding.UTF8.GetString(deadLetter.Message.Headers.GetLastBytes(DeadLetterPublisher.ReasonHeader));
        var setAside = spans.Single(s => s.Kind == ActivityKind.Consumer && Equals(s.GetTagItem("messaging.kafka.offset"), malformedOffset) && s.GetTagItem(DeadLetterPublisher.ReasonTag) is not null);
        setAside.ShouldSatisfyAllConditions(
            () => reason.ShouldNotBeNullOrWhiteSpace(),
            () => setAside.GetTagItem(DeadLetterPublisher.ReasonTag).ShouldBe(reason, "the span says why, as the dead letter's header does"),
            () => setAside.Status.ShouldBe(ActivityStatusCode.Error),
            () => setAside.GetTagItem("messaging.kafka.message.key").ShouldBe(policy.ToString()));
    }

    private static async Task<long> ProduceMalformedAsync(CouponSystem system, long policy)
    {
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = system.Kafka.BootstrapServers }).Build();
        var delivery = await producer.ProduceAsync(
            CouponTopics.Requests, new Message<string, string> { Key = policy.ToString(), Value = "not json at all" }, TestContext.Current.CancellationToken);
        return delivery.Offset.Value;
    }

    private static void AssertProcessesTheRequest(Activity process, Activity publish, long policy, long userId, string outcome) =>
        process.ShouldSatisfyAllConditions(
            () => process.Kind.ShouldBe(ActivityKind.Consumer),
            () => process.TraceId.ShouldBe(publish.TraceId),
            () => process.GetTagItem("messaging.kafka.message.key").ShouldBe(policy.ToString(), "the message key is the policy id"),
            () => process.GetTagItem("messaging.destination.partition.id").ShouldBe(publish.GetTagItem("messaging.destination.partition.id")),
            () => process.GetTagItem("messaging.kafka.offset").ShouldBe(publish.GetTagItem("messaging.kafka.offset")),
            () => process.GetTagItem("messaging.consumer.group.name").ShouldBe("coupon-service-group"),
            () => process.GetTagItem("messaging.client.id").ShouldNotBeNull(),
            () => process.GetTagItem("coupon.policy_id").ShouldBe(policy),
            () => process.GetTagItem("coupon.user_id").ShouldBe(userId),
            () => process.GetTagItem("coupon.outcome").ShouldBe(outcome));

    [Fact(Timeout = Timeouts.System)]
    public async Task The_services_record_requests_decisions_latency_batch_sizes_lag_and_the_partitions_each_consumer_holds()
    {
        await using var system = await CouponSystem.StartAsync(postgres, partitions: 3, consumers: 1);
        var api = system.ApiFactory.Services.GetRequiredService<IMeterFactory>();
        var consumer = system.Consumers[0].Services.GetRequiredService<IMeterFactory>();
        using var accepted = new MetricCollector<long>(api, "CouponAspire.Api", "coupon.requests.accepted");
        using var rejected = new MetricCollector<long>(api, "CouponAspire.Api", "coupon.requests.rejected");
        using var sent = new MetricCollector<long>(api, "CouponAspire.Kafka", "messaging.client.sent.messages");
        using var decisions = new MetricCollector<long>(consumer, "CouponAspire.Issuance", "coupon.decisions");
        using var latency = new MetricCollector<double>(consumer, "CouponAspire.Issuance", "coupon.decision.latency");
        using var batches = new MetricCollector<int>(consumer, "CouponAspire.Issuance", "coupon.batch.size");
        using var lag = new MetricCollector<long>(consumer, "CouponAspire.Kafka", "messaging.kafka.consumer.lag");
        using var timeLag = new MetricCollector<double>(consumer, "CouponAspire.Kafka", "messaging.kafka.consumer.time_lag");
        using var assigned = new MetricCollector<long>(consumer, "CouponAspire.Kafka", "messaging.kafka.consumer.assigned_partitions");
        var policy = await system.CreatePolicyAsync(2);

        var requestIds = new List<string>();
        for (var user = 1; user <= 4; user++)
        {
            requestIds.Add((await system.RequestAsync(policy, user))!);
        }

        (await system.SendRequestAsync(policy + 1000, userId: 9)).StatusCode.ShouldBe(System.Net.HttpStatusCode.NotFound);
        await system.WaitUntilDecidedAsync(requestIds);
        await WaitForAsync(() => decisions.GetMeasurementSnapshot().Count >= 4);

        accepted.GetMeasurementSnapshot().Sum(m => m.Value).ShouldBe(4);
        rejected.GetMeasurementSnapshot().ShouldContain(m => m.Tags["coupon.rejection.reason"]!.Equals("PolicyNotFound"));
        sent.GetMeasurementSnapshot().Where(m => !m.Tags.ContainsKey("error.type")).Sum(m => m.Value).ShouldBe(4);
        var byOutcome = decisions.GetMeasurementSnapshot().GroupBy(m => (string)m.Tags["coupon.outcome"]!).ToDictionary(g => g.Key, g => g.Sum(m => m.Value));
        byOutcome.ShouldBe(new Dictionary<string, long> { ["Issued"] = 2, ["SoldOut"] = 2 }, ignoreOrder: true);
        latency.GetMeasurementSnapshot().Count.ShouldBe(4);
        latency.GetMeasurementSnapshot().ShouldAllBe(m => m.Value >= 0 && m.Value < 60);
        batches.GetMeasurementSnapshot().Sum(m => m.Value).ShouldBe(4);

        // Once everything is decided, the partitions that carried the requests report no lag.
        var carried = (await system.Database.ListAsync<int>("SELECT DISTINCT kafka_partition FROM request_outcomes"))
            .Select(p => p.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
        carried.ShouldNotBeEmpty();
        await WaitForAsync(() =>
        {
            lag.RecordObservableInstruments();
            var latest = lag.GetMeasurementSnapshot().GroupBy(m => (string)m.Tags["messaging.destination.partition.id"]!).ToDictionary(g => g.Key, g => g.Last().Value);
            return carried.All(p => latest.GetValueOrDefault(p, -1) == 0);
        });
        lag.GetMeasurementSnapshot().ShouldAllBe(m => (string)m.Tags["messaging.consumer.group.name"]! == "coupon-service-group");

        // Decisions by partition, the time lag of each partition, and the partitions this consumer holds: all three.
        decisions.GetMeasurementSnapshot().Select(m => (string)m.Tags["messaging.destination.partition.id"]!).Distinct().ShouldBe(carried, ignoreOrder: true);
        timeLag.RecordObservableInstruments();
        Latest(timeLag.GetMeasurementSnapshot()).Where(p => carried.Contains(p.Key)).ShouldAllBe(p => p.Value == 0);
        assigned.RecordObservableInstruments();
        Latest(assigned.GetMeasurementSnapshot()).ShouldBe(new Dictionary<string, long> { ["0"] = 1, ["1"] = 1, ["2"] = 1 }, ignoreOrder: true);
    }

    /// <summary>The last value measured for each partition.</summary>
    private static Dictionary<string, T> Latest<T>(IEnumerable<CollectedMeasurement<T>> measurements) where T : struct =>
        measurements.GroupBy(m => (string)m.Tags["messaging.destination.partition.id"]!).ToDictionary(g => g.Key, g => g.Last().Value);

    private static async Task<List<Activity>> WaitForAsync(LockedList<Activity> exported, Func<List<Activity>, bool> done)
    {
        List<Activity> snapshot = [];
        await WaitForAsync(() => done(snapshot = exported.Snapshot().DistinctBy(s => s.SpanId).ToList()));
        return snapshot;
    }

    private static Task WaitForAsync(Func<bool> done) => Eventually.UntilAsync(done, "the telemetry to arrive", TimeSpan.FromSeconds(20));
}
