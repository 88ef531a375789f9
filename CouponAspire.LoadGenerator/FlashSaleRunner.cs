using System.Globalization;
using CouponAspire.LocalInfrastructure;
using Microsoft.Extensions.Configuration;
using Spectre.Console;

namespace CouponAspire.LoadGenerator;

/// <summary>
/// One flash sale: open the policies, send every request of the plan, read every outcome back, read the policies'
/// final counts, then judge and report.
/// </summary>
internal sealed class FlashSaleRunner(FlashSaleSettings settings, Target target)
{
    public static async Task<int> RunAsync(FlashSaleSettings settings, TargetOptions options, CancellationToken cancellationToken)
    {
        try
        {
            var configuration = new ConfigurationBuilder().AddEnvironmentVariables().Build();
            var target = Target.Resolve(options, configuration, DevelopmentCredentials.Folder());
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
            // A log has no width to fit: keep each table row on one line.
            AnsiConsole.Profile.Width = 200;
        }

        AnsiConsole.MarkupLineInterpolated($"API {target.Api} (from {target.ApiSource}); signing key from {target.SigningKeySource}");
        using var http = CouponApiClient.CreateHttpClient(Math.Max(settings.Concurrency, settings.PollConcurrency) + 1);
        var api = new CouponApiClient(http, target.Api, target.Tokens.ForAdmin());
        var policies = await OpenPoliciesAsync(api, cancellationToken);
        var plan = SalePlan.Create(settings.Requests, settings.Users, settings.Policies, settings.Seed);
        var (recording, polled, poll) = await RunSaleAsync(http, api, policies, plan, terminal, cancellationToken);

        var finals = new List<PolicyFinalState>(policies.Count);
        foreach (var policy in policies)
        {
            var final = await api.GetPolicyAsync(policy.Id, cancellationToken);
            finals.Add(new PolicyFinalState(final.Id, final.TotalQuantity, final.IssuedCount));
        }

        var taken = TakenRequests(plan, policies, recording, polled, poll);
        var unanswered = recording.Status.Count(s => s == SaleRecording.NoAnswer);
        var invariants = InvariantCheck.Evaluate(finals, taken, settings.DecisionTimeout, unanswered);
        var report = FlashSaleReport.Build(settings, target.Api, plan, recording, poll, finals, taken, invariants);
        ReportOutput.Write(report, terminal);
        if (settings.Json is { } json)
        {
            await ReportOutput.WriteJsonAsync(report, json, cancellationToken);
            AnsiConsole.MarkupLineInterpolated($"Report written to {json.FullName}");
        }

        if (report.Sending.Accepted == 0)
        {
            AnsiConsole.MarkupLine("[red]No request was accepted: no verdict.[/]");
            return ExitCodes.CouldNotRun;
        }

        return report.Held ? ExitCodes.Held : ExitCodes.InvariantBroken;
    }

    private async Task<List<PolicyView>> OpenPoliciesAsync(CouponApiClient api, CancellationToken cancellationToken)
    {
        var policies = new List<PolicyView>(settings.Policies);
        var stamp = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        for (var i = 1; i <= settings.Policies; i++)
        {
            policies.Add(await api.CreatePolicyAsync($"Flash sale {stamp} #{i}", settings.Quantity, cancellationToken));
        }

        AnsiConsole.MarkupLineInterpolated($"Opened {string.Join(", ", policies.Select(p => $"policy {p.Id}"))} with {settings.Quantity:N0} coupons each.");
        return policies;
    }

    /// <summary>Sends the plan and reads the outcomes back, with the progress view on meanwhile.</summary>
    private async Task<(SaleRecording Recording, int[] Polled, PollResult Poll)> RunSaleAsync(
        HttpClient http, CouponApiClient api, List<PolicyView> policies, SalePlan plan, bool terminal, CancellationToken cancellationToken)
    {
        // Tokens are minted before the first request so that signing them does not slow the sale down.
        var authorizations = new string[plan.Users];
        Parallel.For(0, plan.Users, user => authorizations[user] = "Bearer " + target.Tokens.ForUser(settings.FirstUserId + user));
        var requestUris = policies.Select(p => api.RequestsUri(p.Id)).ToArray();

        var counters = new LiveCounters();
        using var stopView = new CancellationTokenSource();
        var view = new ProgressView(counters, terminal).RunAsync(stopView.Token);
        try
        {
            var recording = await new IssueRequestSender(http, plan, requestUris, authorizations, counters)
                .RunAsync(settings.Concurrency, settings.Ramp, cancellationToken);

            // Accepted requests, and 503s that may have been published after all: the latter are read, never waited for.
            var polled = Enumerable.Range(0, plan.Requests).Where(i => recording.RequestIds[i] is not null).ToArray();
            var poll = await new OutcomePoller(api, counters).PollAsync(
                polled.Select(i => recording.RequestIds[i]!).ToArray(),
                polled.Select(recording.IsAccepted).ToArray(),
                settings.PollConcurrency,
                DateTimeOffset.UtcNow + settings.DecisionTimeout,
                cancellationToken);
            return (recording, polled, poll);
        }
        finally
        {
            await stopView.CancelAsync();
            await view;
        }
    }

    private List<TakenRequest> TakenRequests(SalePlan plan, List<PolicyView> policies, SaleRecording recording, int[] polled, PollResult poll)
    {
        var taken = new List<TakenRequest>(polled.Length);
        for (var k = 0; k < polled.Length; k++)
        {
            var index = polled[k];
            if (recording.IsAccepted(index) || poll.Outcomes[k] is not null)
            {
                var user = plan.UserOfRequest[index];
                taken.Add(new TakenRequest(
                    recording.RequestIds[index]!, policies[plan.PolicyOf(user)].Id, settings.FirstUserId + user, recording.IsAccepted(index), poll.Outcomes[k]));
            }
        }

        return taken;
    }
}
