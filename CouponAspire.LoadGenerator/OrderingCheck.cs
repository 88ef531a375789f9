using CouponAspire.Contracts.Events;
using CouponAspire.Ordering;

namespace CouponAspire.LoadGenerator;

/// <summary>
/// One policy's verdict as the report shows it: its order against <c>coupon-events</c> and its decisions against
/// <c>coupon-decisions</c> (<c>DecisionsOnTopic</c> counts those published again after a redelivery).
/// </summary>
internal sealed record OrderingRow(long PolicyId, int? Partition, int RequestsInLog, int DecisionsOnTopic, bool OrderOk, bool DecisionsOk, string Detail)
{
    public bool Ok => OrderOk && DecisionsOk;
}

/// <summary>
/// Each policy of the sale judged against its partition of <c>coupon-events</c>, read over the Kafka protocol from where
/// the sale began: every accepted request in the log exactly once, all on one partition, and the coupons to exactly the
/// first N distinct users in partition order, each on their first request (<see cref="FirstComeFirstServed"/>).
/// Outcomes are what the API answered when asked; a request in the log that the sale was not told was accepted (a 503
/// published after all, or withdrawn) is asked about too. Each policy's decisions, read from <c>coupon-decisions</c> from
/// where the sale began, must agree with those outcomes and follow its requests' order (<see cref="DecisionStream"/>).
/// </summary>
internal sealed class OrderingCheck(CouponApiClient api, string kafka)
{
    /// <summary>Where each partition of <c>coupon-events</c> ends before the sale: its requests are after this.</summary>
    public Dictionary<int, long> Start { get; private set; } = [];

    /// <summary>The same for <c>coupon-decisions</c>.</summary>
    public Dictionary<int, long> DecisionsStart { get; private set; } = [];

    public void MarkStart()
    {
        Start = TopicLogs.Ends(kafka);
        DecisionsStart = TopicLogs.Ends(kafka, CouponTopics.Decisions);
    }

    public async Task<List<OrderingRow>> JudgeAsync(
        IReadOnlyList<PolicyTerms> policies, IReadOnlyList<TakenRequest> taken, int concurrency, CancellationToken cancellationToken)
    {
        var log = TopicLogs.ReadRequests(kafka, Start, cancellationToken);
        var ours = policies.Select(p => p.PolicyId).ToHashSet();
        var logged = log.Messages.Where(r => ours.Contains(r.PolicyId)).ToList();

        var outcomes = new Dictionary<string, IssuanceOutcome?>(StringComparer.Ordinal);
        foreach (var request in taken)
        {
            outcomes[request.RequestId] = OutcomeOf(request.Outcome);
        }

        // Requests in the log the sale does not know the outcome of: ask. Not found is a request that was never accepted.
        var unknown = logged.Select(r => r.RequestId).Where(id => !outcomes.ContainsKey(id)).Distinct().ToList();
        var options = new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(unknown, options, async (id, token) =>
        {
            var status = await api.GetRequestAsync(id, token);
            lock (outcomes)
            {
                outcomes[id] = status is null ? IssuanceOutcome.Withdrawn : OutcomeOf(status);
            }
        });

        var decisions = TopicLogs.ReadDecisions(kafka, DecisionsStart, cancellationToken).Messages.Where(d => ours.Contains(d.Decision.PolicyId)).ToLookup(d => d.Decision.PolicyId);
        var answered = taken
            .Where(r => r.Outcome is { Decided: true })
            .ToDictionary(r => r.RequestId, r => new CouponDecided(
                r.RequestId, r.PolicyId, r.UserId, r.Outcome!.Status, r.Outcome.Reason, r.Outcome.CouponId, r.Outcome.RequestedAt, r.Outcome.DecidedAt!.Value, null), StringComparer.Ordinal);
        var byPolicy = logged.ToLookup(r => r.PolicyId);
        var accepted = taken.Where(r => r.Answered202).ToLookup(r => r.PolicyId, r => r.RequestId);
        return [.. policies.Select(policy =>
        {
            var requests = byPolicy[policy.PolicyId]
                .Select(r => new OrderedRequest(r.RequestId, r.UserId, r.RequestedAt, r.Partition, r.Offset, outcomes.GetValueOrDefault(r.RequestId)))
                .ToList();
            var partition = requests.Count > 0 ? requests[0].Partition : (int?)null;
            var order = FirstComeFirstServed.Judge(
                policy, requests, [.. accepted[policy.PolicyId]], partition is { } p ? log.UnseenBefore(p) : null);
            var stream = DecisionStream.Judge(policy, [.. byPolicy[policy.PolicyId]], [.. decisions[policy.PolicyId]], answered);
            var detail = (order.Ok, stream.Ok) switch
            {
                (true, true) => $"{order.Detail}; {stream.Detail}",
                (false, true) => order.Detail,
                (true, false) => $"coupon-decisions: {stream.Detail}",
                _ => $"{order.Detail}; coupon-decisions: {stream.Detail}",
            };
            return new OrderingRow(order.PolicyId, order.Partition, order.RequestsInLog, stream.OnTopic, order.Ok, stream.Ok, detail);
        })];
    }

    /// <summary>The recorded outcome an answer stands for: null while pending.</summary>
    private static IssuanceOutcome? OutcomeOf(RequestStatusView? status) => status switch
    {
        null or { Decided: false } => null,
        { Status: RequestStatusView.Issued } => IssuanceOutcome.Issued,
        { Reason: { } reason } when Enum.TryParse<IssuanceOutcome>(reason, out var outcome) => outcome,
        _ => throw new InvalidOperationException($"The API answered a decided request without a known reason: {status.Status} {status.Reason}."),
    };
}
