using System.Globalization;
using CouponAspire.Contracts.Events;

namespace CouponAspire.Ordering;

/// <summary>The verdict on one policy's decisions on <c>coupon-decisions</c>.</summary>
public sealed record DecisionStreamVerdict(long PolicyId, int OnTopic, int Duplicates, IReadOnlyList<string> Violations, string Detail)
{
    public bool Ok => Violations.Count == 0;
}

/// <summary>
/// One policy's decisions on <c>coupon-decisions</c> judged against its requests on <c>coupon-events</c> and the outcomes
/// its clients were given: every request has a decision, on one partition, in the order of the requests (the first time
/// each is published: a redelivered request may publish its decision again, identical), no decision without a request,
/// each agreeing with what its client was told, and the quantity left falling by one with each coupon issued.
/// </summary>
public static class DecisionStream
{
    /// <param name="requests">The policy's requests as <c>coupon-events</c> holds them, in offset order.</param>
    /// <param name="decisions">The policy's decisions as <c>coupon-decisions</c> holds them, in offset order.</param>
    /// <param name="answered">What each client was told, where known: a decided request's status, reason and coupon.</param>
    public static DecisionStreamVerdict Judge(
        PolicyTerms policy,
        IReadOnlyList<LoggedRequest> requests,
        IReadOnlyList<LoggedDecision> decisions,
        IReadOnlyDictionary<string, CouponDecided> answered)
    {
        var violations = new List<string>();
        var partitions = decisions.Select(d => d.Partition).Distinct().Order().ToList();
        if (partitions.Count > 1)
        {
            violations.Add($"its decisions are on partitions {string.Join(", ", partitions)}: a policy's decisions must share one partition");
        }

        var first = new List<CouponDecided>(decisions.Count);
        var seen = new Dictionary<string, CouponDecided>(StringComparer.Ordinal);
        foreach (var logged in decisions)
        {
            if (!seen.TryGetValue(logged.Decision.RequestId, out var earlier))
            {
                seen.Add(logged.Decision.RequestId, logged.Decision);
                first.Add(logged.Decision);
            }
            else if (earlier != logged.Decision)
            {
                violations.Add($"request {earlier.RequestId} is decided twice, differently: {Describe(earlier)}, then {Describe(logged.Decision)}");
            }
        }

        var requested = requests.Select(r => r.RequestId).Distinct(StringComparer.Ordinal).ToList();
        var inLog = requested.ToHashSet(StringComparer.Ordinal);
        var missing = requested.Where(id => !seen.ContainsKey(id)).ToList();
        if (missing.Count > 0)
        {
            violations.Add($"{missing.Count} request(s) of coupon-events have no decision on coupon-decisions, e.g. {missing[0]}");
        }

        var stray = first.Where(d => !inLog.Contains(d.RequestId)).ToList();
        if (stray.Count > 0)
        {
            violations.Add($"{stray.Count} decision(s) of requests that are not in coupon-events, e.g. {stray[0].RequestId}");
        }

        var order = first.Where(d => inLog.Contains(d.RequestId)).Select(d => d.RequestId).ToList();
        var expected = requested.Where(seen.ContainsKey).ToList();
        if (order.Zip(expected).Select((pair, index) => (pair, index)).FirstOrDefault(p => p.pair.First != p.pair.Second) is { pair.First: not null } mismatch)
        {
            violations.Add($"decision {mismatch.index + 1} is of request {mismatch.pair.First}, where coupon-events has {mismatch.pair.Second}: out of the requests' order");
        }

        var issued = 0;
        foreach (var decision in first)
        {
            issued += decision.Outcome == IssuanceOutcome.Issued ? 1 : 0;
            if (decision.RemainingQuantity is { } remaining && remaining != policy.TotalQuantity - issued)
            {
                violations.Add($"request {decision.RequestId} says {remaining} left after {issued} of {policy.TotalQuantity} issued");
                break;
            }
        }

        foreach (var decision in first)
        {
            if (answered.TryGetValue(decision.RequestId, out var told)
                && (told.Status != decision.Status || told.Reason != decision.Reason || told.CouponId != decision.CouponId))
            {
                violations.Add($"request {decision.RequestId} was published as {Describe(decision)} but its client was told {Describe(told)}");
            }
        }

        var named = violations.Take(FirstComeFirstServed.ViolationsNamed).ToList();
        if (violations.Count > named.Count)
        {
            named.Add($"and {violations.Count - named.Count} more");
        }

        var duplicates = decisions.Count - first.Count;
        var detail = named.Count > 0
            ? string.Join("; ", named)
            : string.Create(CultureInfo.InvariantCulture, $"{first.Count:N0} decisions in the requests' order") + (duplicates > 0 ? string.Create(CultureInfo.InvariantCulture, $", {duplicates:N0} published again, identical") : "");
        return new DecisionStreamVerdict(policy.PolicyId, decisions.Count, duplicates, named, detail);
    }

    private static string Describe(CouponDecided decision) =>
        $"{decision.Status}{(decision.Reason is null ? "" : $" ({decision.Reason})")}{(decision.CouponId is { } coupon ? $" coupon {coupon}" : "")}";
}
