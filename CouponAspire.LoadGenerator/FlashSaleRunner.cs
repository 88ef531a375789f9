using System.Globalization;
using CouponAspire.Contracts.Events;
using CouponAspire.Ordering;
using CouponAspire.LocalInfrastructure;
using Microsoft.Extensions.Configuration;
using Spectre.Console;

namespace CouponAspire.LoadGenerator;

/// <summary>
/// One flash sale: open the policies (covering every partition), note where the topics end, send the plan (each client
/// learning its outcome), read the policies' final counts, judge each policy's order and decisions against the topics,
/// then report.
/// </summary>
internal sealed class FlashSaleRunner(FlashSaleSettings settings, Target target)
{
    /// <summary>The width of the report where the output is a log (the dashboard's console): no line is longer.</summary>
    public const int LogWidth = 120;

    public static async Task<int> RunAsync(FlashSaleSettings settings, TargetOptions options, CancellationToken cancellationToken)
    {
        try
        {
            var configuration = new ConfigurationBuilder().AddEnvironmentVariables().Build();
            var target = Target.Resolve(options, configuration, DevelopmentCredentials.Folder());
            if (settings.CheckOrdering && target.Kafka is null)
            {
                throw new CannotRunException(
                    $"Which Kafka? The order is judged against coupon-events: give --kafka, set {Target.KafkaKey}, start the AppHost (it writes {DevelopmentCredentials.KafkaFile}), or pass --no-ordering.");
            }

            return await new FlashSaleRunner(settings, target).RunAsync(cancellationToken);
        }
        catch (CannotRunException e)
        {
            await Console.Error.WriteLineAsync($"Could not run the sale: {e.Message}");
            return ExitCodes.CouldNotRun;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync("Cancelled: no verdict.");
            return ExitCodes.CouldNotRun;
        }
    }

    private async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var terminal = !settings.PlainProgress && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
        if (Console.IsOutputRedirected)
        {
            // A log (the dashboard's console) wraps what is wider than its pane: tables fit this width.
            AnsiConsole.Profile.Width = LogWidth;
        }

        AnsiConsole.MarkupLineInterpolated($"API {target.Api} (from {target.ApiSource}); signing key from {target.SigningKeySource}");
        if (target.Kafka is { } kafka && settings.CheckOrdering)
        {
            AnsiConsole.MarkupLineInterpolated($"Kafka {kafka} (from {target.KafkaSource}): each policy's order is judged against coupon-events");
        }

        using var http = CouponApiClient.CreateHttpClient(Math.Max(settings.Concurrency, settings.PollConcurrency) + 1);
        var api = new CouponApiClient(http, target.Api, target.Tokens.ForAdmin());
        var ordering = settings.CheckOrdering ? new OrderingCheck(api, target.Kafka!) : null;
        var policies = await OpenPoliciesAsync(api, cancellationToken);
        var plan = SalePlan.Create(settings.Requests, settings.Users, policies.Count, settings.Seed);
        ordering?.MarkStart();
        var (recording, poll) = await RunSaleAsync(http, api, policies, plan, terminal, cancellationToken);

        var finals = new List<PolicyFinalState>(policies.Count);
        foreach (var policy in policies)
        {
            var final = await api.GetPolicyAsync(policy.Id, cancellationToken);
            finals.Add(new PolicyFinalState(final.Id, final.TotalQuantity, final.IssuedCount));
        }

        var taken = TakenRequests(plan, policies, recording);
        var unanswered = recording.Status.AsSpan(0, recording.Sent).Count(SaleRecording.NoAnswer);
        var invariants = InvariantCheck.Evaluate(finals, taken, settings.DecisionTimeout, unanswered);
        var orderingRows = ordering is null
            ? []
            : await ordering.JudgeAsync([.. policies.Select(p => new PolicyTerms(p.Id, p.TotalQuantity))], taken, settings.PollConcurrency, cancellationToken);
        var report = FlashSaleReport.Build(settings, target.Api, plan, recording, poll, finals, taken, invariants, orderingRows);
        ReportOutput.Write(report, terminal);
        if (settings.ReportJson is { } json)
        {
            await ReportOutput.WriteJsonAsync(report, json, cancellationToken);
            AnsiConsole.MarkupLineInterpolated($"Report written to {json.FullName}");
        }

        if (report.Accepted == 0)
        {
            AnsiConsole.MarkupLine("[red]No request was accepted: no verdict.[/]");
            return ExitCodes.CouldNotRun;
        }

        return report.Held ? ExitCodes.Held : ExitCodes.InvariantBroken;
    }

    /// <summary>
    /// Opens the sale's policies. Where the partitions of <c>coupon-events</c> are known, policies are opened until they
    /// cover every partition evenly (one per partition by default): a policy's partition follows from its id, which the
    /// database gives, so the ones that would crowd a partition are opened and left out of the sale.
    /// </summary>
    private async Task<List<PolicyView>> OpenPoliciesAsync(CouponApiClient api, CancellationToken cancellationToken)
    {
        var partitions = target.Kafka is { } kafka && settings.CheckOrdering ? TopicLogs.Ends(kafka).Count : 0;
        var wanted = settings.Policies ?? (partitions > 0 ? partitions : FlashSaleSettings.DefaultPolicies);
        var perPartition = partitions > 0 ? (wanted + partitions - 1) / partitions : int.MaxValue;
        var held = new int[Math.Max(partitions, 1)];
        var policies = new List<PolicyView>(wanted);
        var left = 0;
        var stamp = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        while (policies.Count < wanted)
        {
            var policy = await api.CreatePolicyAsync($"Flash sale {stamp} #{policies.Count + left + 1}", settings.Quantity, cancellationToken);
            var partition = partitions > 0 ? CouponPartitions.Of(policy.Id, partitions) : 0;
            if (held[partition] < perPartition || left >= 20 * wanted)
            {
                held[partition]++;
                policies.Add(policy);
            }
            else
            {
                left++;
            }
        }

        var opened = string.Join(", ", policies.Select(p => partitions > 0 ? $"{p.Id} (partition {CouponPartitions.Of(p.Id, partitions)})" : $"{p.Id}"));
        var spare = left > 0 ? $"; {left} more opened and left out, their partitions taken" : "";
        AnsiConsole.MarkupLineInterpolated($"Opened {policies.Count} policies of {settings.Quantity:N0} coupons: {opened}{spare}");
        return policies;
    }

    /// <summary>Sends the plan, each client learning its outcome as it goes, with the progress view on meanwhile.</summary>
    private async Task<(SaleRecording Recording, PollResult Poll)> RunSaleAsync(
        HttpClient http, CouponApiClient api, List<PolicyView> policies, SalePlan plan, bool terminal, CancellationToken cancellationToken)
    {
        var tokens = new UserTokens(target.Tokens, settings.FirstUserId, plan.Users);
        var requestUris = policies.Select(p => api.RequestsUri(p.Id)).ToArray();

        var counters = new LiveCounters();
        using var stopView = new CancellationTokenSource();
        var view = new ProgressView(counters, terminal).RunAsync(stopView.Token);
        try
        {
            var results = new ResultReader(http, target.Api, settings.Result);
            var recording = await new IssueRequestSender(http, plan, requestUris, tokens, results, settings.DecisionTimeout, counters)
                .RunAsync(settings.Concurrency, settings.Ramp, settings.Duration, settings.Rate, cancellationToken);

            // What the clients did not learn: 503s that may have been published after all (read, never waited for), and
            // accepted requests not decided in time (read once more, as an administrator).
            var polled = Enumerable.Range(0, recording.Sent).Where(i => recording.RequestIds[i] is not null && recording.Results[i] is null).ToArray();
            var poll = await new OutcomePoller(api, counters).PollAsync(
                polled.Select(i => recording.RequestIds[i]!).ToArray(),
                polled.Select(recording.IsAccepted).ToArray(),
                settings.PollConcurrency,
                DateTimeOffset.UtcNow + (polled.Any(recording.IsAccepted) ? TimeSpan.FromSeconds(5) : TimeSpan.Zero),
                cancellationToken);
            for (var k = 0; k < polled.Length; k++)
            {
                recording.Results[polled[k]] = poll.Outcomes[k];
            }

            return (recording, poll);
        }
        finally
        {
            await stopView.CancelAsync();
            await view;
        }
    }

    private List<TakenRequest> TakenRequests(SalePlan plan, List<PolicyView> policies, SaleRecording recording)
    {
        var taken = new List<TakenRequest>();
        for (var index = 0; index < recording.Sent; index++)
        {
            if (recording.IsAccepted(index) || (recording.RequestIds[index] is not null && recording.Results[index] is not null))
            {
                var user = plan.UserOfRequest[index];
                taken.Add(new TakenRequest(
                    recording.RequestIds[index]!, policies[plan.PolicyOf(user)].Id, settings.FirstUserId + user, recording.IsAccepted(index), recording.Results[index]));
            }
        }

        return taken;
    }
}
