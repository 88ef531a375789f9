using System.Diagnostics;
using System.Diagnostics.Metrics;
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
    [Fact]
    public async Task One_request_is_one_trace_from_the_http_request_through_kafka_to_its_decision_and_database_work()
    {
        var exported = new LockedList<Activity>();
        await using var system = await CouponSystem.StartAsync(
            postgres, partitions: 3, consumers: 1, configureServices: services => services.ConfigureOpenTelemetryTracerProvider(t => t.AddInMemoryExporter(exported)));
        var policy = await system.CreatePolicyAsync(10);

        var requestId = (await system.RequestAsync(policy, userId: 77))!.Value;
        await system.WaitUntilDecidedAsync([requestId]);
        var spans = await WaitForAsync(exported, all => all.Any(s => s.GetTagItem("coupon.request_id") is Guid id && id == requestId && s.Kind == ActivityKind.Consumer));

        var publish = spans.Single(s => s.DisplayName == "coupon-events publish" && Equals(s.GetTagItem("coupon.request_id"), requestId));
        var server = spans.Single(s => s.SpanId == publish.ParentSpanId);
        var process = spans.Single(s => s.DisplayName == "coupon-events process" && s.ParentSpanId == publish.SpanId);
        var databaseWork = spans.Where(s => s.ParentSpanId == process.SpanId).ToList();

        server.Kind.ShouldBe(ActivityKind.Server);
        server.GetTagItem("http.route").ShouldBe("/api/coupon-policies/{policyId}/requests");
        publish.Kind.ShouldBe(ActivityKind.Producer);
        process.Kind.ShouldBe(ActivityKind.Consumer);
        new[] { server, publish, process }.Select(s => s.TraceId).Distinct().ShouldHaveSingleItem();
        publish.ShouldSatisfyAllConditions(
            () => publish.GetTagItem("messaging.system").ShouldBe("kafka"),
            () => publish.GetTagItem("messaging.destination.name").ShouldBe("coupon-events"),
            () => publish.GetTagItem("messaging.kafka.message.key").ShouldBe(policy.ToString()),
            () => publish.GetTagItem("messaging.destination.partition.id").ShouldNotBeNull(),
            () => publish.GetTagItem("messaging.kafka.offset").ShouldNotBeNull());
        AssertProcessesTheRequest(process, publish, policy, userId: 77, "Issued");
        databaseWork.ShouldNotBeEmpty("a lone request's decision and its database work are in its own trace");
        databaseWork.ShouldAllBe(s => s.Source.Name == "Npgsql");
    }

    [Fact]
    public async Task A_batch_has_a_span_linked_to_every_message_with_the_database_work_under_it_and_each_message_links_back()
    {
        var exported = new LockedList<Activity>();
        await using var system = await CouponSystem.StartAsync(
            postgres, partitions: 1, consumers: 0, configureServices: services => services.ConfigureOpenTelemetryTracerProvider(t => t.AddInMemoryExporter(exported)));
        var policy = await system.CreatePolicyAsync(10);

        // Published before any consumer runs, so that the first poll takes them all at once.
        var requestIds = new List<Guid>();
        for (var user = 1; user <= 10; user++)
        {
            requestIds.Add((await system.RequestAsync(policy, user))!.Value);
        }

        system.AddConsumer();
        await system.WaitUntilDecidedAsync(requestIds);
        var spans = await WaitForAsync(exported, all => requestIds.All(id => all.Any(s => Equals(s.GetTagItem("coupon.request_id"), id) && s.Kind == ActivityKind.Consumer)));

        // However the polls split them, every batch of several has a span of its own.
        var batches = spans.Where(s => s.GetTagItem("messaging.batch.message_count") is int).ToDictionary(s => s.SpanId);
        batches.ShouldNotBeEmpty("requests waiting for a consumer are decided in batches");
        foreach (var (requestId, user) in requestIds.Select((id, i) => (id, i + 1L)))
        {
            var publish = spans.Single(s => s.DisplayName == "coupon-events publish" && Equals(s.GetTagItem("coupon.request_id"), requestId));
            var process = spans.Single(s => s.Kind == ActivityKind.Consumer && s.ParentSpanId == publish.SpanId);
            AssertProcessesTheRequest(process, publish, policy, user, "Issued");
            if (process.Links.Any())
            {
                var batch = batches[process.Links.ShouldHaveSingleItem().Context.SpanId];
                batch.Links.ShouldContain(link => link.Context.SpanId == publish.SpanId, "the batch links to every message it decided");
            }
        }

        batches.Values.Sum(b => (int)b.GetTagItem("messaging.batch.message_count")!).ShouldBe(
            spans.Count(s => s.Kind == ActivityKind.Consumer && s.ParentSpanId != default && s.Links.Any()), "each message of a batch links to the batch that decided it");
        foreach (var batch in batches.Values)
        {
            var databaseWork = spans.Where(s => s.ParentSpanId == batch.SpanId).ToList();
            databaseWork.ShouldNotBeEmpty("the batch's database transaction hangs under the batch span");
            databaseWork.ShouldAllBe(s => s.Source.Name == "Npgsql");
        }
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

    [Fact]
    public async Task The_services_record_requests_decisions_latency_batch_sizes_and_lag()
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
        var policy = await system.CreatePolicyAsync(2);

        var requestIds = new List<Guid>();
        for (var user = 1; user <= 4; user++)
        {
            requestIds.Add((await system.RequestAsync(policy, user))!.Value);
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

        await WaitForAsync(() =>
        {
            lag.RecordObservableInstruments();
            return lag.LastMeasurement is not null;
        });
        var partitions = lag.GetMeasurementSnapshot().Select(m => m.Tags["messaging.destination.partition.id"]).Distinct().ToList();
        partitions.ShouldNotBeEmpty();
        lag.GetMeasurementSnapshot().ShouldAllBe(m => m.Value >= 0 && (string)m.Tags["messaging.consumer.group.name"]! == "coupon-service-group");
    }

    private static async Task<List<Activity>> WaitForAsync(LockedList<Activity> exported, Func<List<Activity>, bool> done)
    {
        List<Activity> snapshot = [];
        await WaitForAsync(() => done(snapshot = exported.Snapshot().DistinctBy(s => s.SpanId).ToList()));
        return snapshot;
    }

    private static async Task WaitForAsync(Func<bool> done) =>
        (await Eventually.HoldsAsync(done, TimeSpan.FromSeconds(20))).ShouldBeTrue("the telemetry did not arrive in time");

    /// <summary>A list the exporters of several hosts may add to at once.</summary>
    private sealed class LockedList<T> : ICollection<T>
    {
        private readonly List<T> _items = [];

        public int Count
        {
            get
            {
                lock (_items)
                {
                    return _items.Count;
                }
            }
        }

        public bool IsReadOnly => false;

        public List<T> Snapshot()
        {
            lock (_items)
            {
                return [.. _items];
            }
        }

        public void Add(T item)
        {
            lock (_items)
            {
                _items.Add(item);
            }
        }

        public void Clear()
        {
            lock (_items)
            {
                _items.Clear();
            }
        }

        public bool Contains(T item) => Snapshot().Contains(item);

        public void CopyTo(T[] array, int arrayIndex) => Snapshot().CopyTo(array, arrayIndex);

        public bool Remove(T item)
        {
            lock (_items)
            {
                return _items.Remove(item);
            }
        }

        public IEnumerator<T> GetEnumerator() => Snapshot().GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
