using System.Globalization;
using CouponAspire.Contracts.Events;
using CouponAspire.Data;

namespace CouponAspire.Ordering;

/// <summary>
/// A request as the log orders it, with the outcome recorded for it: null while undecided,
/// <see cref="IssuanceOutcome.Withdrawn"/> for one that was never accepted (its publish failed and was voided).
/// </summary>
public sealed record OrderedRequest(string RequestId, long UserId, DateTimeOffset RequestedAt, int Partition, long Offset, IssuanceOutcome? Outcome);

/// <summary>A policy as the rule needs it: how many coupons, and when it takes requests.</summary>
public sealed record PolicyTerms(long PolicyId, int TotalQuantity, DateTimeOffset? StartsAt = null, DateTimeOffset? EndsAt = null);

/// <summary>
/// The verdict on one policy: the partition its requests are on (null when none, or when they are on several), how
/// many of its requests the log holds, how many are decided and issued, and what is wrong, if anything.
/// </summary>
public sealed record PolicyOrdering(
    long PolicyId, int? Partition, int RequestsInLog, int Decided, int Issued, int TotalQuantity, IReadOnlyList<string> Violations, string Detail)
{
    public bool Ok => Violations.Count == 0;
}

/// <summary>
/// The first-come-first-served rule judged against a policy's partition: its requests are all on one partition, each
/// once; read in offset order, the coupons went to exactly the first <c>totalQuantity</c> distinct users, each on their
/// first request — later requests of a winner are <c>AlreadyIssued</c>, everyone after the last coupon <c>SoldOut</c>,
/// requests outside the policy's window <c>PolicyNotOpen</c> — and a partition is decided in order, never with a gap.
/// The same rule the engines apply; here it is checked from the outside, against what they stored.
/// </summary>
public static class FirstComeFirstServed
{
    /// <summary>How many violations a verdict names; the rest are counted.</summary>
    public const int ViolationsNamed = 5;

    /// <param name="requests">The policy's requests as the log holds them, in any order.</param>
    /// <param name="mustBeLogged">Ids that must be in the log exactly once (those answered 202), when known.</param>
    /// <param name="unseenBefore">
    /// When the log no longer holds the start of what was to be judged (a broker's retention evicted it): the first
    /// offset it still holds. Requests of <paramref name="mustBeLogged"/> that are missing are then said to be unseen.
    /// </param>
    public static PolicyOrdering Judge(
        PolicyTerms policy, IReadOnlyCollection<OrderedRequest> requests, IReadOnlyCollection<string>? mustBeLogged = null, long? unseenBefore = null)
    {
        var violations = new List<string>();
        var partitions = requests.Select(r => r.Partition).Distinct().Order().ToList();
        if (partitions.Count > 1)
        {
            violations.Add($"its requests are on partitions {string.Join(", ", partitions)}: a policy's requests must share one partition");
        }

        foreach (var repeated in requests.GroupBy(r => r.RequestId).Where(g => g.Count() > 1).Take(ViolationsNamed))
        {
            violations.Add($"request {repeated.Key} is in the log {repeated.Count()} times");
        }

        if (mustBeLogged is not null)
        {
            var logged = requests.Select(r => r.RequestId).ToHashSet(StringComparer.Ordinal);
            var missing = mustBeLogged.Where(id => !logged.Contains(id)).ToList();
            if (missing.Count > 0)
            {
                violations.Add(unseenBefore is { } start
                    ? $"{missing.Count} accepted request(s) could not be checked: the log no longer holds offsets before {start} (evicted by retention), e.g. {missing[0]}"
                    : $"{missing.Count} accepted request(s) are not in the log, e.g. {missing[0]}");
            }
        }

        var ordered = requests.OrderBy(r => r.Partition).ThenBy(r => r.Offset).DistinctBy(r => r.RequestId).ToList();
        var (decided, issued, undecidedTail) = Replay(policy, ordered, violations);

        var named = violations.Take(ViolationsNamed).ToList();
        if (violations.Count > ViolationsNamed)
        {
            named.Add($"and {violations.Count - ViolationsNamed} more");
        }

        var detail = named.Count > 0
            ? string.Join("; ", named)
            : string.Create(CultureInfo.InvariantCulture, $"{issued:N0} of {policy.TotalQuantity:N0} to the first {issued:N0} distinct users, each on their first request")
              + (undecidedTail > 0 ? string.Create(CultureInfo.InvariantCulture, $"; {undecidedTail:N0} at the end not decided yet") : "");
        return new PolicyOrdering(policy.PolicyId, partitions.Count == 1 ? partitions[0] : null, requests.Count, decided, issued, policy.TotalQuantity, named, detail);
    }

    /// <summary>Walks the partition in order, deciding as the rule says, and compares with what was recorded.</summary>
    private static (int Decided, int Issued, int UndecidedTail) Replay(PolicyTerms policy, List<OrderedRequest> ordered, List<string> violations)
    {
        var winners = new HashSet<long>();
        var decided = 0;
        var issued = 0;
        OrderedRequest? firstUndecided = null;
        var undecided = 0;
        foreach (var request in ordered)
        {
            if (request.Outcome == IssuanceOutcome.Withdrawn)
            {
                continue;
            }

            if (request.Outcome is not { } actual)
            {
                firstUndecided ??= request;
                undecided++;
                continue;
            }

            if (firstUndecided is not null)
            {
                violations.Add($"offset {firstUndecided.Offset} (user {firstUndecided.UserId}) is not decided although offset {request.Offset} after it is: a request skipped");
                firstUndecided = null;
                undecided = 0;
            }

            decided++;
            var expected = !IssuanceWindow.Contains(policy.StartsAt, policy.EndsAt, request.RequestedAt) ? IssuanceOutcome.PolicyNotOpen
                : winners.Contains(request.UserId) ? IssuanceOutcome.AlreadyIssued
                : winners.Count < policy.TotalQuantity ? IssuanceOutcome.Issued
                : IssuanceOutcome.SoldOut;
            if (expected == IssuanceOutcome.Issued)
            {
                winners.Add(request.UserId);
            }

            if (actual == IssuanceOutcome.Issued)
            {
                issued++;
            }

            if (actual != expected)
            {
                violations.Add(Describe(request, actual, expected, winners.Count, policy.TotalQuantity));
            }
        }

        return (decided, issued, undecided);
    }

    private static string Describe(OrderedRequest request, IssuanceOutcome actual, IssuanceOutcome expected, int winnersSoFar, int quantity)
    {
        var at = $"offset {request.Offset} (user {request.UserId})";
        return (actual, expected) switch
        {
            (_, IssuanceOutcome.Issued) => $"{at} is the first request of distinct user {winnersSoFar} of {quantity} and should have won, but got {actual}: a winner skipped",
            (IssuanceOutcome.Issued, IssuanceOutcome.AlreadyIssued) => $"{at} was issued although that user won earlier in the partition: not their first request",
            (IssuanceOutcome.Issued, IssuanceOutcome.SoldOut) => $"{at} was issued after all {quantity} coupons had gone to earlier users: a later request issued",
            _ => $"{at} got {actual} where the rule gives {expected}",
        };
    }
}
