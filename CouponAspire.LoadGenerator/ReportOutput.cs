using System.Text.Json;
using System.Text.Json.Serialization;
using CouponAspire.LocalInfrastructure;
using Spectre.Console;

namespace CouponAspire.LoadGenerator;

/// <summary>The report on the console (tables; plain characters when the output is not a terminal) and as JSON.</summary>
internal static class ReportOutput
{
    public static void Write(FlashSaleReport report, bool terminal)
    {
        var border = terminal ? TableBorder.Rounded : TableBorder.Ascii;
        var sale = report.Sale;
        var sending = report.Sending;
        AnsiConsole.WriteLine();
        AnsiConsole.MarkupLineInterpolated(
            $"[bold]Flash sale[/] against {report.Api}: {sale.Policies} polic{(sale.Policies == 1 ? "y" : "ies")} of {sale.Quantity:N0} coupons, {sale.Requests:N0} requests from {sale.Users:N0} users, concurrency {sale.Concurrency} (ramp {sale.RampSeconds:0.##} s), started {report.StartedAt:u}");

        var figures = new Table().Border(border).AddColumn("Measure").AddColumn(new TableColumn("Value"));
        figures.AddRow("Sending", $"{sending.Sent:N0} sent in {sending.DurationSeconds:0.00} s: {sending.Accepted:N0} accepted, {sending.Refused:N0} refused, {sending.Errors:N0} errors");
        figures.AddRow("Accepted per second", $"{sending.AcceptedPerSecond:N0}/s (all requests: {sending.SentPerSecond:N0}/s)");
        figures.AddRow(
            "Generator CPU",
            $"{sending.GeneratorCpuSeconds:0.00} s while sending ({sending.GeneratorCpuSeconds / Math.Max(sending.DurationSeconds, 1e-9) / Environment.ProcessorCount:P0} of {Environment.ProcessorCount} cores, {sending.GeneratorCpuSeconds * 1e6 / Math.Max(sending.Sent, 1):N0} µs a request)");
        figures.AddRow("Issue POST latency", Latency(report.IssueLatencyMs));
        figures.AddRow("  of the 202s", Latency(report.AcceptedLatencyMs));
        figures.AddRow("Accepted -> decided", Latency(report.DecisionLatencyMs));
        figures.AddRow("Drain", report.DrainSeconds is { } drain ? $"last decision {drain * 1000:N0} ms after the last acceptance" : "nothing decided");
        figures.AddRow("Polling", $"{report.Polling.Calls:N0} reads in {report.Polling.DurationSeconds:0.00} s, {report.Polling.Errors:N0} failed");
        AnsiConsole.Write(figures);

        var kinds = new Table().Border(border).AddColumn("Outcome (accepted requests)").AddColumn(new TableColumn("Count").RightAligned())
            .AddColumn("HTTP refusal / error").AddColumn(new TableColumn("Count").RightAligned());
        var outcomes = report.Outcomes.ToList();
        var refusals = report.Refusals.ToList();
        for (var i = 0; i < Math.Max(outcomes.Count, refusals.Count); i++)
        {
            kinds.AddRow(
                i < outcomes.Count ? Markup.Escape(outcomes[i].Key) : "",
                i < outcomes.Count ? $"{outcomes[i].Value:N0}" : "",
                i < refusals.Count ? Markup.Escape(refusals[i].Key) : "",
                i < refusals.Count ? $"{refusals[i].Value:N0}" : "");
        }

        AnsiConsole.Write(kinds);

        var policies = new Table().Border(border)
            .AddColumn("Policy").AddColumn(new TableColumn("Quantity").RightAligned()).AddColumn(new TableColumn("Users accepted").RightAligned())
            .AddColumn(new TableColumn("Issued").RightAligned()).AddColumn(new TableColumn("issuedCount").RightAligned())
            .AddColumn(new TableColumn("Sold out after").RightAligned()).AddColumn(new TableColumn("First 409 SoldOut").RightAligned());
        foreach (var policy in report.Policies)
        {
            policies.AddRow(
                $"{policy.Id}", $"{policy.TotalQuantity:N0}", $"{policy.DistinctUsersAccepted:N0}", $"{policy.IssuedOutcomes:N0}", $"{policy.IssuedCount:N0}",
                Seconds(policy.SoldOutAfterSeconds), Seconds(policy.FirstSoldOutRefusalAfterSeconds));
        }

        AnsiConsole.Write(policies);

        var invariants = new Table().Border(border).AddColumn("").AddColumn("Invariant").AddColumn("Detail");
        foreach (var invariant in report.Invariants)
        {
            invariants.AddRow(invariant.Held ? "[green]ok[/]" : "[red]FAILED[/]", Markup.Escape(invariant.Name), Markup.Escape(invariant.Detail));
        }

        AnsiConsole.Write(invariants);
        AnsiConsole.MarkupLine(report.Held ? "[bold green]The sale held: every invariant holds.[/]" : "[bold red]The sale did NOT hold: an invariant broke.[/]");
    }

    public static async Task WriteJsonAsync(FlashSaleReport report, FileInfo file, CancellationToken cancellationToken)
    {
        file.Directory?.Create();
        await using var stream = file.Create();
        await JsonSerializer.SerializeAsync(stream, report, ReportJson.Default.FlashSaleReport, cancellationToken);
    }

    private static string Latency(LatencySummary latency) => latency.Count == 0
        ? "none"
        : $"p50 {latency.P50:0.0} ms, p95 {latency.P95:0.0} ms, p99 {latency.P99:0.0} ms, max {latency.Max:0.0} ms ({latency.Count:N0})";

    private static string Seconds(double? seconds) => seconds is { } s ? $"{s:0.000} s" : "-";
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(FlashSaleReport))]
internal sealed partial class ReportJson : JsonSerializerContext;
