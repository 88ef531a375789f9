using CouponAspire.Consumer.Issuance;
using CouponAspire.Data;

namespace CouponAspire.Tests.Issuance;

/// <summary>
/// The first-come-first-served rules written as plainly as possible, one request at a time, in memory: the
/// reference both issuance strategies must match request by request.
/// </summary>
internal sealed class FcfsModel
{
    private readonly Dictionary<long, ModelPolicy> _policies;
    private readonly Dictionary<long, int> _issued = [];
    private readonly HashSet<(long PolicyId, long UserId)> _holders = [];
    private readonly Dictionary<string, IssuanceOutcome> _outcomes = [];

    public FcfsModel(IEnumerable<ModelPolicy> policies) => _policies = policies.ToDictionary(p => p.Id);

    public IReadOnlyDictionary<long, int> Issued => _issued;

    public (IssuanceOutcome Outcome, bool Replayed) Decide(IssuanceRequest request)
    {
        if (_outcomes.TryGetValue(request.RequestId, out var earlier))
        {
            return (earlier, true);
        }

        var outcome = DecideNew(request);
        _outcomes[request.RequestId] = outcome;
        return (outcome, false);
    }

    private IssuanceOutcome DecideNew(IssuanceRequest request)
    {
        if (!_policies.TryGetValue(request.PolicyId, out var policy))
        {
            return IssuanceOutcome.PolicyNotFound;
        }

        var open = (policy.StartsAt is null || request.RequestedAt >= policy.StartsAt)
                   && (policy.EndsAt is null || request.RequestedAt < policy.EndsAt);
        if (!open)
        {
            return IssuanceOutcome.PolicyNotOpen;
        }

        if (_holders.Contains((request.PolicyId, request.UserId)))
        {
            return IssuanceOutcome.AlreadyIssued;
        }

        if (_issued.GetValueOrDefault(request.PolicyId) == policy.TotalQuantity)
        {
            return IssuanceOutcome.SoldOut;
        }

        _issued[request.PolicyId] = _issued.GetValueOrDefault(request.PolicyId) + 1;
        _holders.Add((request.PolicyId, request.UserId));
        return IssuanceOutcome.Issued;
    }
}

internal sealed record ModelPolicy(long Id, int TotalQuantity, DateTimeOffset? StartsAt, DateTimeOffset? EndsAt);
