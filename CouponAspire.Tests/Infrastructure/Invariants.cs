using System.Text.Json;
using CouponAspire.Contracts.Events;
using CouponAspire.Ordering;

namespace CouponAspire.Tests.Infrastructure;

/// <summary>
/// The guarantees of the product, checked against the database and the partition log after a run: nothing lost, no
/// over-issuance, no duplicates, first come first served, and every stored outcome on coupon-decisions in its requests'
/// order. Scoped to the sale's policies, so that several sales may share one system.
/// </summary>
public static class Invariants
{
    /// <summary>Every policy of the system's own database is the sale's.</summary>
    public static async Task AssertAllHoldAsync(CouponSystem system, IReadOnlyCollection<AcceptedRequest> accepted, TimeSpan? decisionTimeout = null) =>
        await AssertAllHoldAsync(
            system.Database,
            system.Kafka.BootstrapServers,
            await system.Database.ListAsync<long>("SELECT id FROM coupon_policies"),
            accepted,
            decisionTimeout);

    public static async Task AssertAllHoldAsync(
        TestDatabase database, string kafkaBootstrapServers, IReadOnlyCollection<long> policies, IReadOnlyCollection<AcceptedRequest> accepted, TimeSpan? decisionTimeout = null)
    {
        var policyIds = policies.ToArray();

        // Nothing lost: every request answered 202 has exactly one outcome (and a withdrawn one was never answered 202).
        var ids = accepted.Select(a => a.RequestId).ToArray();
        await Decisions.WaitUntilDecidedAsync(database, kafkaBootstrapServers, ids, decisionTimeout);
        (await database.ScalarAsync<long>("SELECT count(*) FROM request_outcomes WHERE request_id = ANY($1) AND outcome = 'Withdrawn'", ids)).ShouldBe(0);

        // No false failure: nothing was decided that the client was not told was accepted (a 503 was never published,
        // or was withdrawn), so the decided requests are exactly the accepted ones.
        (await database.ScalarAsync<long>("SELECT count(*) FROM request_outcomes WHERE outcome <> 'Withdrawn' AND policy_id = ANY($1)", policyIds))
            .ShouldBe(accepted.Count);

        // No duplicates, and the counts agree with the coupons.
        (await database.ScalarAsync<long>(
            "SELECT count(*) FROM (SELECT 1 FROM coupons WHERE policy_id = ANY($1) GROUP BY policy_id, user_id HAVING count(*) > 1) d", policyIds)).ShouldBe(0);
        (await database.ScalarAsync<long>(
            "SELECT count(*) FROM coupon_policies p WHERE p.id = ANY($1) AND p.issued_count <> (SELECT count(*) FROM coupons c WHERE c.policy_id = p.id)", policyIds))
            .ShouldBe(0);
        (await database.ScalarAsync<long>(
            """
            SELECT count(*) FROM request_outcomes o LEFT JOIN coupons c ON c.request_id = o.request_id
            WHERE o.policy_id = ANY($1) AND (o.outcome = 'Issued') <> (c.id IS NOT NULL)
            """, policyIds)).ShouldBe(0);

        // First come, first served: per policy, the winners are the first distinct users in partition order,
        // and there are exactly as many as the quantity allows.
        var withdrawn = (await database.ListAsync<string>("SELECT request_id FROM request_outcomes WHERE outcome = 'Withdrawn' AND policy_id = ANY($1)", policyIds)).ToHashSet();
        var everything = KafkaLog.ReadAll(kafkaBootstrapServers, CouponTopics.Requests)
            .Select(m => (Message: m, Request: JsonSerializer.Deserialize<CouponRequested>(m.Message.Value, JsonSerializerOptions.Web)!))
            .Where(m => policyIds.Contains(m.Request.PolicyId))
            .ToList();

        // The idempotent producer's retries left no duplicates in the log.
        everything.GroupBy(m => m.Request.RequestId).Where(g => g.Count() > 1).ShouldBeEmpty();
        var log = everything.Where(m => !withdrawn.Contains(m.Request.RequestId)).ToList();
        foreach (var policy in log.GroupBy(m => m.Request.PolicyId))
        {
            policy.Select(m => m.Message.Partition.Value).Distinct().Count().ShouldBe(1, $"policy {policy.Key} spans partitions");
            var quantity = await database.ScalarAsync<int>("SELECT total_quantity FROM coupon_policies WHERE id = $1", policy.Key);
            var firstUsers = policy.OrderBy(m => m.Message.Offset.Value).Select(m => m.Request.UserId).Distinct().Take(quantity).ToHashSet();
            var holders = (await database.ListAsync<long>("SELECT user_id FROM coupons WHERE policy_id = $1", policy.Key)).ToHashSet();
            holders.SetEquals(firstUsers).ShouldBeTrue($"policy {policy.Key}: the {holders.Count} holders are not the first {firstUsers.Count} distinct users of its partition");
        }

        await AssertDecisionsPublishedAsync(database, kafkaBootstrapServers, policyIds, everything.Select(m => m.Message).ToList(), decisionTimeout);
    }

    /// <summary>
    /// Decisions are events: every stored outcome of the policies is on coupon-decisions (published after its commit, so
    /// it may take a moment), as stored, on its policy's partition and in the order of its requests; one published again
    /// after a redelivery is identical.
    /// </summary>
    private static async Task AssertDecisionsPublishedAsync(
        TestDatabase database, string kafkaBootstrapServers, long[] policyIds, List<Confluent.Kafka.ConsumeResult<string, byte[]>> requests, TimeSpan? timeout)
    {
        var stored = (await database.ListAsync(
            """
            SELECT request_id, policy_id, user_id, outcome, coupon_id, requested_at, decided_at, remaining_quantity
            FROM request_outcomes WHERE policy_id = ANY($1)
            """,
            row => CouponDecided.Of(
                row.GetString(0), row.GetInt64(1), row.GetInt64(2), Enum.Parse<IssuanceOutcome>(row.GetString(3)), row.IsDBNull(4) ? null : row.GetInt64(4),
                row.GetFieldValue<DateTimeOffset>(5), row.GetFieldValue<DateTimeOffset>(6), row.IsDBNull(7) ? null : row.GetInt32(7)),
            policyIds)).ToDictionary(d => d.RequestId);
        // The requests of the log that were decided: each must be on the topic. (A withdrawn request the broker never
        // stored has an outcome and no message, and publishes nothing.)
        var logged = requests
            .Select(m => (Message: m, Request: JsonSerializer.Deserialize<CouponRequested>(m.Message.Value, JsonSerializerOptions.Web)!))
            .Where(m => stored.ContainsKey(m.Request.RequestId))
            .Select(m => new LoggedRequest(m.Request.RequestId, m.Request.PolicyId, m.Request.UserId, m.Request.RequestedAt, m.Message.Partition.Value, m.Message.Offset.Value))
            .ToList();
        IReadOnlyList<LoggedDecision> decisions = [];
        var missing = 0;
        await Eventually.UntilAsync(
            () =>
            {
                var read = TopicLogs.ReadDecisions(kafkaBootstrapServers);
                MockClusterRetention.AssertWhole(CouponTopics.Decisions, read.Partitions.ToDictionary(p => p.Key, p => p.Value.LogStart));
                decisions = read.Messages;
                var published = decisions.Select(d => d.Decision.RequestId).ToHashSet();
                return (missing = logged.Count(r => !published.Contains(r.RequestId))) == 0;
            },
            "every stored outcome to be on coupon-decisions",
            timeout ?? TimeSpan.FromSeconds(60),
            () => $"{missing} of {logged.Count} are not.");

        var requestsOf = logged.ToLookup(r => r.PolicyId);
        var byPolicy = decisions.ToLookup(d => d.Decision.PolicyId);
        foreach (var policyId in policyIds)
        {
            var quantity = await database.ScalarAsync<int>("SELECT total_quantity FROM coupon_policies WHERE id = $1", policyId);
            var verdict = DecisionStream.Judge(new PolicyTerms(policyId, quantity), [.. requestsOf[policyId]], [.. byPolicy[policyId]], stored);
            verdict.Ok.ShouldBeTrue($"policy {policyId} on coupon-decisions: {verdict.Detail}");
            if (requestsOf[policyId].FirstOrDefault() is { } first && byPolicy[policyId].FirstOrDefault() is { } decided)
            {
                decided.Partition.ShouldBe(first.Partition, $"policy {policyId}: its decisions are partitioned as its requests");
            }
        }
    }
}
