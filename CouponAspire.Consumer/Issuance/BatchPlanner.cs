using CouponAspire.Data;
namespace CouponAspire.Consumer.Issuance;

/// <summary>What the database says about a batch before deciding it (policy rows locked).</summary>
internal sealed record BatchState(
    IReadOnlyDictionary<long, PolicySnapshot> Policies,
    IReadOnlyDictionary<string, StoredOutcome> StoredOutcomes,
    IReadOnlyDictionary<(long PolicyId, long UserId), long> HeldCoupons);

internal sealed record StoredOutcome(IssuanceOutcome Outcome, long? CouponId, DateTimeOffset DecidedAt, int? RemainingQuantity);

/// <summary>
/// One request's planned outcome and the policy's quantity left after it; <see cref="Replayed"/> ones are not written
/// again, and carry when they were decided.
/// </summary>
internal readonly record struct PlannedDecision(
    IssuanceRequest Request, IssuanceOutcome Outcome, long? KnownCouponId, bool Replayed, int? RemainingQuantity, DateTimeOffset? DecidedAt = null);

/// <summary>
/// The first-come-first-served rules applied to a batch in order, in memory, against the locked state: a stored
/// outcome is returned unchanged; then unknown policy, closed window, coupon already held, quantity used up; otherwise
/// the request wins. The same rules, one request at a time in SQL, are <see cref="PerMessageIssuanceEngine"/>.
/// </summary>
internal static class BatchPlanner
{
    public static IReadOnlyList<PlannedDecision> Plan(IReadOnlyList<IssuanceRequest> batch, BatchState state)
    {
        var decided = new Dictionary<string, PlannedDecision>(batch.Count);
        var issuedInBatch = new Dictionary<long, int>();
        var holders = new HashSet<(long, long)>(batch.Count);
        var plan = new PlannedDecision[batch.Count];

        for (var i = 0; i < batch.Count; i++)
        {
            var request = batch[i];
            if (decided.TryGetValue(request.RequestId, out var earlier))
            {
                plan[i] = earlier with { Request = request, Replayed = true };
                continue;
            }

            var decision = state.StoredOutcomes.TryGetValue(request.RequestId, out var stored)
                ? new PlannedDecision(request, stored.Outcome, stored.CouponId, Replayed: true, stored.RemainingQuantity, stored.DecidedAt)
                : Decide(request, state, issuedInBatch, holders);
            decided.Add(request.RequestId, decision);
            plan[i] = decision;
        }

        return plan;
    }

    private static PlannedDecision Decide(
        IssuanceRequest request,
        BatchState state,
        Dictionary<long, int> issuedInBatch,
        HashSet<(long, long)> holders)
    {
        if (!state.Policies.TryGetValue(request.PolicyId, out var policy))
        {
            return new(request, IssuanceOutcome.PolicyNotFound, null, Replayed: false, RemainingQuantity: null);
        }

        var issued = issuedInBatch.GetValueOrDefault(request.PolicyId);
        if (!policy.IsOpenAt(request.RequestedAt))
        {
            return New(IssuanceOutcome.PolicyNotOpen);
        }

        var pair = (request.PolicyId, request.UserId);
        if (state.HeldCoupons.TryGetValue(pair, out var heldCouponId))
        {
            return New(IssuanceOutcome.AlreadyIssued, heldCouponId);
        }

        if (holders.Contains(pair))
        {
            // Won earlier in this batch: its id is known once the coupon row is inserted.
            return New(IssuanceOutcome.AlreadyIssued);
        }

        if (policy.IssuedCount + issued >= policy.TotalQuantity)
        {
            return New(IssuanceOutcome.SoldOut);
        }

        issuedInBatch[request.PolicyId] = ++issued;
        holders.Add(pair);
        return New(IssuanceOutcome.Issued);

        PlannedDecision New(IssuanceOutcome outcome, long? couponId = null) =>
            new(request, outcome, couponId, Replayed: false, policy.TotalQuantity - policy.IssuedCount - issued);
    }
}
