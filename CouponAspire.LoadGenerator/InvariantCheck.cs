namespace CouponAspire.LoadGenerator;

/// <summary>A policy as the API reports it after the sale.</summary>
internal sealed record PolicyFinalState(long PolicyId, int TotalQuantity, int IssuedCount);

/// <summary>
/// A request the API took: answered 202, or answered 503 with an unknown outcome and later found decided (then it was
/// published after all, and counts like any other). Nothing else belongs in the list.
/// </summary>
internal sealed record TakenRequest(string RequestId, long PolicyId, long UserId, bool Answered202, RequestStatusView? Outcome);

internal sealed record InvariantResult(string Name, bool Ok, string Detail);

/// <summary>The product's guarantees, as far as a client can see them from the outcomes it read back.</summary>
internal static class InvariantCheck
{
    public const string AllDecided = "Every accepted request decided within the timeout";
    public const string OutcomesMatch = "Every outcome is of the request's own policy and user";
    public const string ExactIssuance = "Issued = min(quantity, distinct users accepted) per policy";
    public const string NoDuplicates = "At most one coupon per user and policy";
    public const string CountsAgree = "Each policy's issuedCount = its Issued outcomes";

    /// <param name="unanswered">Issue requests that got no answer: they may have been published, which would explain a difference in the counts.</param>
    public static IReadOnlyList<InvariantResult> Evaluate(
        IReadOnlyList<PolicyFinalState> policies, IReadOnlyList<TakenRequest> taken, TimeSpan decisionTimeout, int unanswered = 0)
    {
        var caveat = unanswered == 0 ? "" : $" ({unanswered} request(s) got no answer and may have been published)";
        var decided = taken.Where(r => r.Outcome is not null).ToList();
        var issued = decided.Where(r => r.Outcome!.Status == RequestStatusView.Issued).ToList();
        return
        [
            Decisions(taken, decisionTimeout),
            Matching(decided),
            Issuance(policies, taken, issued, caveat),
            Duplicates(issued, decided, caveat),
            Counts(policies, issued, caveat),
        ];
    }

    private static InvariantResult Decisions(IReadOnlyList<TakenRequest> taken, TimeSpan timeout)
    {
        var accepted = taken.Where(r => r.Answered202).ToList();
        var undecided = accepted.Where(r => r.Outcome is null).ToList();
        var late = accepted.Where(r => r.Outcome is { } o && o.DecidedAt - o.RequestedAt > timeout).ToList();
        var slowest = accepted.Select(r => r.Outcome is { } o ? o.DecidedAt - o.RequestedAt : null).Max() ?? TimeSpan.Zero;
        var detail = $"{accepted.Count - undecided.Count:N0} of {accepted.Count:N0} decided, the slowest in {slowest.TotalSeconds:0.###} s";
        if (undecided.Count > 0)
        {
            detail += $"; {undecided.Count:N0} undecided, e.g. {undecided[0].RequestId}";
        }

        if (late.Count > 0)
        {
            detail += $"; {late.Count:N0} decided after more than {timeout.TotalSeconds:0.###} s";
        }

        return new InvariantResult(AllDecided, undecided.Count == 0 && late.Count == 0, detail);
    }

    private static InvariantResult Matching(IReadOnlyList<TakenRequest> decided)
    {
        var mismatched = decided.Where(r => r.Outcome!.PolicyId != r.PolicyId || r.Outcome.UserId != r.UserId || r.Outcome.RequestId != r.RequestId).ToList();
        return new InvariantResult(
            OutcomesMatch,
            mismatched.Count == 0,
            mismatched.Count == 0 ? $"{decided.Count:N0} outcomes checked" : $"{mismatched.Count:N0} outcomes belong to another request, e.g. {mismatched[0].RequestId}");
    }

    private static InvariantResult Issuance(
        IReadOnlyList<PolicyFinalState> policies, IReadOnlyList<TakenRequest> taken, IReadOnlyList<TakenRequest> issued, string caveat)
    {
        var wrong = new List<string>();
        foreach (var policy in policies)
        {
            var users = taken.Where(r => r.PolicyId == policy.PolicyId).Select(r => r.UserId).Distinct().Count();
            var expected = Math.Min(policy.TotalQuantity, users);
            var actual = issued.Count(r => r.PolicyId == policy.PolicyId);
            if (actual != expected)
            {
                wrong.Add($"policy {policy.PolicyId}: {actual:N0} issued, expected min({policy.TotalQuantity:N0}, {users:N0}) = {expected:N0}");
            }
        }

        return new InvariantResult(
            ExactIssuance, wrong.Count == 0, wrong.Count == 0 ? $"{policies.Count} polic{(policies.Count == 1 ? "y" : "ies")} checked" : string.Join("; ", wrong) + caveat);
    }

    private static InvariantResult Duplicates(IReadOnlyList<TakenRequest> issued, IReadOnlyList<TakenRequest> decided, string caveat)
    {
        var doubled = issued.GroupBy(r => (r.PolicyId, r.UserId)).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        var reusedCoupons = issued.GroupBy(r => r.Outcome!.CouponId).Count(g => g.Key is null || g.Count() > 1);

        // AlreadyIssued names the coupon the user holds; in a policy opened for this sale that is one this sale issued them.
        var winners = issued.Select(r => (r.PolicyId, r.UserId, r.Outcome!.CouponId)).ToHashSet();
        var groundless = decided.Count(r => r.Outcome!.Reason == "AlreadyIssued" && !winners.Contains((r.PolicyId, r.UserId, r.Outcome.CouponId)));

        var problems = new List<string>();
        if (doubled.Count > 0)
        {
            problems.Add($"{doubled.Count:N0} user(s) issued twice, e.g. user {doubled[0].UserId} of policy {doubled[0].PolicyId}");
        }

        if (reusedCoupons > 0)
        {
            problems.Add($"{reusedCoupons:N0} coupon id(s) missing or issued to two requests");
        }

        if (groundless > 0)
        {
            problems.Add($"{groundless:N0} AlreadyIssued outcome(s) name no coupon this sale issued to that user{caveat}");
        }

        return new InvariantResult(
            NoDuplicates, problems.Count == 0, problems.Count == 0 ? $"{issued.Count:N0} coupons to {issued.Count:N0} distinct (policy, user) pairs" : string.Join("; ", problems));
    }

    private static InvariantResult Counts(IReadOnlyList<PolicyFinalState> policies, IReadOnlyList<TakenRequest> issued, string caveat)
    {
        var wrong = policies
            .Select(p => (Policy: p, Outcomes: issued.Count(r => r.PolicyId == p.PolicyId)))
            .Where(p => p.Policy.IssuedCount != p.Outcomes || p.Policy.IssuedCount > p.Policy.TotalQuantity)
            .Select(p => $"policy {p.Policy.PolicyId}: issuedCount {p.Policy.IssuedCount:N0} of {p.Policy.TotalQuantity:N0}, {p.Outcomes:N0} Issued outcomes")
            .ToList();
        return new InvariantResult(
            CountsAgree, wrong.Count == 0, wrong.Count == 0 ? string.Join("; ", policies.Select(p => $"policy {p.PolicyId}: {p.IssuedCount:N0}")) : string.Join("; ", wrong) + caveat);
    }
}
