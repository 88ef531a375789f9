using System.Diagnostics;
using System.Net;
using CouponAspire.LocalInfrastructure;

namespace CouponAspire.LoadGenerator;

/// <summary>
/// Everything a run found, for the console and for <c>--report-json</c>: what was sent and how fast, how long clients
/// waited for their outcome (<see cref="ClickToResultMs"/>, from sending the request to knowing; and apart, the clicks
/// sent after the sale's first second, when the crowd's first clicks meet code not yet compiled), how long decisions took
/// (<see cref="AcceptedToDecidedMs"/>, from each outcome's <c>requestedAt</c> and <c>decidedAt</c>) and reached their
/// client (<see cref="DecidedToResultMs"/>, from <c>decidedAt</c> to the client knowing, by this machine's clock: meaningful
/// where the client and the system share a clock), the invariants, one
/// ordering verdict per policy, and <see cref="Held"/>.
/// </summary>
internal sealed record FlashSaleReport(
    string Api,
    DateTimeOffset StartedAt,
    SaleShape Sale,
    int Sent,
    int Accepted,
    int Refused,
    int Errors,
    double SendSeconds,
    double RequestsPerSecond,
    double AcceptedPerSecond,
    double GeneratorCpuSeconds,
    LatencySummary IssueLatencyMs,
    LatencySummary AcceptedLatencyMs,
    LatencySummary ClickToResultMs,
    LatencySummary ClickToResultAfterFirstSecondMs,
    LatencySummary AcceptedToDecidedMs,
    LatencySummary DecidedToResultMs,
    double? DrainSeconds,
    IReadOnlyDictionary<string, int> Outcomes,
    IReadOnlyDictionary<string, int> Refusals,
    PollingSummary Polling,
    IReadOnlyList<PolicyReport> Policies,
    IReadOnlyList<InvariantResult> Invariants,
    IReadOnlyList<OrderingRow> Ordering)
{
    /// <summary>True only when every invariant and every ordering verdict holds.</summary>
    public bool Held => Invariants.All(i => i.Ok) && Ordering.All(o => o.Ok);

    public static FlashSaleReport Build(
        FlashSaleSettings settings,
        Uri api,
        SalePlan plan,
        SaleRecording recording,
        PollResult poll,
        IReadOnlyList<PolicyFinalState> policies,
        IReadOnlyList<TakenRequest> taken,
        IReadOnlyList<InvariantResult> invariants,
        IReadOnlyList<OrderingRow> ordering)
    {
        var accepted = 0;
        var refused = 0;
        var errors = 0;
        var refusals = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var issueLatencies = new List<double>(recording.Sent);
        var acceptedLatencies = new List<double>(recording.Sent);
        var clickToResult = new List<double>(recording.Sent);
        var clickToResultAfterFirstSecond = new List<double>(recording.Sent);
        var decidedToResult = new List<double>(recording.Sent);
        for (var i = 0; i < recording.Sent; i++)
        {
            var status = recording.Status[i];
            if (status != SaleRecording.NoAnswer)
            {
                issueLatencies.Add(Milliseconds(recording.LatencyTicks[i]));
            }

            if (recording.IsAccepted(i))
            {
                accepted++;
                acceptedLatencies.Add(Milliseconds(recording.LatencyTicks[i]));
                if (recording.ClickToResultTicks[i] > 0)
                {
                    var clickMs = Milliseconds(recording.ClickToResultTicks[i]);
                    clickToResult.Add(clickMs);
                    if ((recording.ResultAt[i] - recording.StartedAt).TotalMilliseconds - clickMs >= 1_000)
                    {
                        clickToResultAfterFirstSecond.Add(clickMs);
                    }

                    decidedToResult.Add((recording.ResultAt[i] - recording.Results[i]!.DecidedAt!.Value).TotalMilliseconds);
                }

                continue;
            }

            var (kind, designed) = RefusalKind(status, recording.Details[i], recording.RequestIds[i]);
            refusals[kind] = refusals.GetValueOrDefault(kind) + 1;
            if (designed)
            {
                refused++;
            }
            else
            {
                errors++;
            }
        }

        var outcomes = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var decisionLatencies = new List<double>(taken.Count);
        foreach (var request in taken)
        {
            var kind = request.Outcome?.Kind ?? "Undecided";
            outcomes[kind] = outcomes.GetValueOrDefault(kind) + 1;
            if (request.Outcome is { DecidedAt: { } decidedAt } outcome)
            {
                decisionLatencies.Add((decidedAt - outcome.RequestedAt).TotalMilliseconds);
            }
        }

        // How long the consumers needed after the last accepted request to catch up: the last decision minus the last
        // acceptance, both stamped by the system (the API's requestedAt, the database's decidedAt).
        var decided = taken.Where(r => r.Outcome is { DecidedAt: not null }).ToList();
        double? drain = decided.Count == 0
            ? null
            : Math.Max(0, (decided.Max(r => r.Outcome!.DecidedAt!.Value) - decided.Max(r => r.Outcome!.RequestedAt)).TotalSeconds);

        var seconds = recording.Duration.TotalSeconds;
        return new FlashSaleReport(
            api.ToString().TrimEnd('/'),
            recording.StartedAt,
            new SaleShape(
                policies.Count, settings.Quantity, plan.Requests, plan.Users, settings.Duration?.TotalSeconds, settings.Concurrency, settings.Ramp.TotalSeconds,
                settings.Result.ToString().ToLowerInvariant(), settings.DecisionTimeout.TotalSeconds, settings.FirstUserId, settings.Seed),
            recording.Sent,
            accepted,
            refused,
            errors,
            seconds,
            seconds > 0 ? recording.Sent / seconds : 0,
            seconds > 0 ? accepted / seconds : 0,
            recording.ProcessorTime.TotalSeconds,
            LatencySummary.Of([.. issueLatencies]),
            LatencySummary.Of([.. acceptedLatencies]),
            LatencySummary.Of([.. clickToResult]),
            LatencySummary.Of([.. clickToResultAfterFirstSecond]),
            LatencySummary.Of([.. decisionLatencies]),
            LatencySummary.Of([.. decidedToResult]),
            drain,
            outcomes,
            refusals,
            new PollingSummary(poll.Calls, poll.Errors, poll.Duration.TotalSeconds, taken.Count(r => !r.Answered202)),
            policies.Select((policy, index) => PolicyFigures(policy, index, recording, taken)).ToList(),
            invariants,
            ordering);
    }

    /// <summary>How a request that was not accepted is counted, and whether it is an answer the API gives by design under load.</summary>
    private static (string Kind, bool Designed) RefusalKind(short status, string? detail, string? requestId) => (HttpStatusCode)status switch
    {
        (HttpStatusCode)SaleRecording.NoAnswer => ($"no answer ({detail})", false),
        HttpStatusCode.Conflict => ($"409 {detail ?? "without reason"}", true),
        HttpStatusCode.TooManyRequests => ("429", true),
        HttpStatusCode.ServiceUnavailable => (requestId is null ? "503" : "503 outcome unknown", true),
        _ => ($"{status}", false),
    };

    private static PolicyReport PolicyFigures(PolicyFinalState policy, int index, SaleRecording recording, IReadOnlyList<TakenRequest> taken)
    {
        var mine = taken.Where(r => r.PolicyId == policy.PolicyId).ToList();
        var issued = mine.Where(r => r.Outcome?.Status == RequestStatusView.Issued).ToList();
        double? soldOutAfter = issued.Count >= policy.TotalQuantity && issued.Count > 0
            ? (issued.Max(r => r.Outcome!.DecidedAt!.Value) - recording.StartedAt).TotalSeconds
            : null;
        // Requests the API still took after the last coupon had been issued: what the sold-out gate let through.
        int? acceptedAfterSoldOut = soldOutAfter is null
            ? null
            : mine.Count(r => r.Outcome is { } outcome && outcome.RequestedAt > issued.Max(w => w.Outcome!.DecidedAt!.Value));
        var firstRefusal = recording.FirstSoldOutRefusal[index];
        return new PolicyReport(
            policy.PolicyId,
            policy.TotalQuantity,
            mine.Select(r => r.UserId).Distinct().Count(),
            issued.Count,
            policy.IssuedCount,
            soldOutAfter,
            firstRefusal == 0 ? null : Stopwatch.GetElapsedTime(recording.StartTimestamp, firstRefusal).TotalSeconds,
            acceptedAfterSoldOut);
    }

    private static double Milliseconds(long stopwatchTicks) => stopwatchTicks * 1000.0 / Stopwatch.Frequency;
}

/// <summary>
/// What was asked for: <c>Requests</c> planned (all sent unless <c>DurationSeconds</c> ran out first), from <c>Users</c>
/// users (ids from <c>FirstUserId</c> on), each client learning its outcome by <c>Result</c> (wait, events or poll).
/// </summary>
internal sealed record SaleShape(
    int Policies,
    int Quantity,
    int Requests,
    int Users,
    double? DurationSeconds,
    int Concurrency,
    double RampSeconds,
    string Result,
    double DecisionTimeoutSeconds,
    long FirstUserId,
    int Seed);

/// <summary>
/// Reading back, as an administrator, the outcomes the clients did not learn; <c>UncertainDecided</c> counts 503s with an
/// unknown outcome that were decided after all.
/// </summary>
internal sealed record PollingSummary(long Calls, long Errors, double DurationSeconds, int UncertainDecided);

/// <summary>
/// One policy after the sale. <c>SoldOutAfterSeconds</c>: from the first request sent to the last Issued decision
/// (null if not sold out); <c>FirstSoldOutRefusalAfterSeconds</c>: to the first 409 SoldOut answer (the gate closing).
/// <c>AcceptedAfterSoldOut</c>: requests accepted after its last coupon was issued (by their <c>requestedAt</c>), which
/// the sold-out gate let through before it learnt.
/// </summary>
internal sealed record PolicyReport(
    long Id,
    int TotalQuantity,
    int DistinctUsersAccepted,
    int IssuedOutcomes,
    int IssuedCount,
    double? SoldOutAfterSeconds,
    double? FirstSoldOutRefusalAfterSeconds,
    int? AcceptedAfterSoldOut);
