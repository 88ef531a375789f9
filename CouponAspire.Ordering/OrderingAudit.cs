using System.Globalization;
using CouponAspire.Contracts.Events;
using Npgsql;

namespace CouponAspire.Ordering;

/// <summary>What an audit of the whole system found: a verdict per policy decided so far, and the totals.</summary>
public sealed record OrderingAuditReport(IReadOnlyList<PolicyOrdering> Policies, int Requests, int Evicted)
{
    public bool Held => Policies.All(p => p.Ok);

    public int Violations => Policies.Sum(p => p.Violations.Count);

    /// <summary>One line: policies, requests, violations, and which policies broke.</summary>
    public string Summary => string.Create(CultureInfo.InvariantCulture, $"{Policies.Count:N0} policies, {Requests:N0} requests, {Violations} violation(s)")
                            + (Held ? "" : " in policy " + string.Join(", ", Policies.Where(p => !p.Ok).Select(p => p.PolicyId)))
                            + (Evicted > 0 ? string.Create(CultureInfo.InvariantCulture, $"; {Evicted:N0} decided requests no longer in the log, judged from their stored offsets") : "");
}

/// <summary>
/// Audits every policy decided so far: its partition of <c>coupon-events</c>, read over the Kafka protocol, against the
/// outcomes stored in PostgreSQL, by <see cref="FirstComeFirstServed"/>. A stored outcome must name the request the log
/// has at its partition and offset; a decided request the log no longer holds (evicted by retention) is judged from its
/// stored partition and offset. Reads every outcome and the whole topic: for a demonstration system, not for a ledger of
/// months.
/// </summary>
public static class OrderingAudit
{
    public static async Task<OrderingAuditReport> RunAsync(NpgsqlDataSource database, string kafka, CancellationToken cancellationToken)
    {
        // The decisions first, the log after: a request is in the log before it is decided, so the log read afterwards
        // holds every decided request it has not evicted. Requests decided meanwhile read as undecided, at the end.
        var stored = await ReadOutcomesAsync(database, cancellationToken);
        var log = TopicLogs.ReadRequests(kafka, cancellationToken: cancellationToken);
        var logged = log.Messages.ToLookup(r => r.PolicyId);

        var verdicts = new List<PolicyOrdering>();
        var requests = 0;
        var evicted = 0;
        foreach (var (policy, outcomes) in stored)
        {
            var (verdict, unseen) = Judge(policy, outcomes, logged[policy.PolicyId], log);
            verdicts.Add(verdict);
            requests += verdict.RequestsInLog + unseen;
            evicted += unseen;
        }

        return new OrderingAuditReport(verdicts, requests, evicted);
    }

    private static (PolicyOrdering Verdict, int Unseen) Judge(PolicyTerms policy, List<StoredOutcome> outcomes, IEnumerable<LoggedRequest> logged, LogRead<LoggedRequest> log)
    {
        var byId = outcomes.ToDictionary(o => o.RequestId, StringComparer.Ordinal);
        var inLog = new HashSet<string>(StringComparer.Ordinal);
        var requests = new List<OrderedRequest>();
        var mismatches = new List<string>();
        foreach (var request in logged)
        {
            inLog.Add(request.RequestId);
            byId.TryGetValue(request.RequestId, out var outcome);
            if (outcome is { Partition: { } partition, Offset: { } offset } && (partition != request.Partition || offset != request.Offset || outcome.UserId != request.UserId))
            {
                mismatches.Add($"request {request.RequestId} is at partition {request.Partition} offset {request.Offset} in the log, but its outcome says partition {partition} offset {offset} user {outcome.UserId}");
            }

            requests.Add(new OrderedRequest(request.RequestId, request.UserId, request.RequestedAt, request.Partition, request.Offset, outcome?.Outcome));
        }

        var unseen = 0;
        foreach (var outcome in outcomes.Where(o => o.Outcome != IssuanceOutcome.Withdrawn && !inLog.Contains(o.RequestId)))
        {
            if (outcome is { Partition: { } partition, Offset: { } offset } && log.Partitions.TryGetValue(partition, out var range) && offset < range.LogStart)
            {
                unseen++;
                requests.Add(new OrderedRequest(outcome.RequestId, outcome.UserId, outcome.RequestedAt, partition, offset, outcome.Outcome));
            }
            else
            {
                mismatches.Add($"request {outcome.RequestId} is decided ({outcome.Outcome}) but not in the log");
            }
        }

        var verdict = FirstComeFirstServed.Judge(policy, requests);
        if (mismatches.Count > 0)
        {
            var violations = mismatches.Concat(verdict.Violations).ToList();
            verdict = verdict with
            {
                RequestsInLog = requests.Count - unseen,
                Violations = violations,
                Detail = string.Join("; ", violations.Take(FirstComeFirstServed.ViolationsNamed)),
            };
        }
        else
        {
            verdict = verdict with { RequestsInLog = requests.Count - unseen };
        }

        return (verdict, unseen);
    }

    private static async Task<List<(PolicyTerms Policy, List<StoredOutcome> Outcomes)>> ReadOutcomesAsync(NpgsqlDataSource database, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("""
            SELECT p.id, p.total_quantity, p.starts_at, p.ends_at,
                   o.request_id, o.user_id, o.outcome, o.kafka_partition, o.kafka_offset, o.requested_at
            FROM request_outcomes AS o
            JOIN coupon_policies AS p ON p.id = o.policy_id
            ORDER BY p.id
            """);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var policies = new List<(PolicyTerms, List<StoredOutcome>)>();
        List<StoredOutcome>? current = null;
        long currentId = 0;
        while (await reader.ReadAsync(cancellationToken))
        {
            var policyId = reader.GetInt64(0);
            if (current is null || policyId != currentId)
            {
                current = [];
                currentId = policyId;
                policies.Add((new PolicyTerms(
                    policyId,
                    reader.GetInt32(1),
                    reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2),
                    reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3)), current));
            }

            current.Add(new StoredOutcome(
                reader.GetString(4),
                reader.GetInt64(5),
                Enum.Parse<IssuanceOutcome>(reader.GetString(6)),
                reader.IsDBNull(7) ? null : reader.GetInt32(7),
                reader.IsDBNull(8) ? null : reader.GetInt64(8),
                reader.GetFieldValue<DateTimeOffset>(9)));
        }

        return policies;
    }

    private sealed record StoredOutcome(string RequestId, long UserId, IssuanceOutcome Outcome, int? Partition, long? Offset, DateTimeOffset RequestedAt);
}
