using System.Text.Json;
using System.Text.Json.Serialization;
using CouponAspire.LocalInfrastructure;
using Spectre.Console;

namespace CouponAspire.LoadGenerator;

/// <summary>
/// The report on the console (tables; plain characters, within <see cref="FlashSaleRunner.LogWidth"/> columns, when the
/// output is a log) and as JSON.
/// </summary>
internal static class ReportOutput
{
    public static void Write(FlashSaleReport report, bool terminal)
    {
        var border = terminal ? TableBorder.Rounded : TableBorder.Ascii;
        var sale = report.Sale;
        AnsiConsole.WriteLine();
        AnsiConsole.MarkupLineInterpolated(
            $"[bold]Flash sale[/] against {report.Api}: {sale.Policies} polic{(sale.Policies == 1 ? "y" : "ies")} of {sale.Quantity:N0} coupons, {report.Sent:N0} requests from up to {sale.Users:N0} users, concurrency {sale.Concurrency}, started {report.StartedAt:u}");

        var figures = new Table().Border(border).AddColumn("Measure").AddColumn(new TableColumn("Value"));
        figures.AddRow("Sending", $"{report.Sent:N0} sent in {report.SendSeconds:0.00} s: {report.Accepted:N0} accepted, {report.Refused:N0} refused, {report.Errors:N0} errors");
        figures.AddRow("Rate", $"{report.RequestsPerSecond:N0} requests/s, {report.AcceptedPerSecond:N0} accepted/s");
        figures.AddRow(
            "Generator CPU",
            $"{report.GeneratorCpuSeconds:0.00} s ({report.GeneratorCpuSeconds / Math.Max(report.SendSeconds, 1e-9) / Environment.ProcessorCount:P0} of {Environment.ProcessorCount} cores, {report.GeneratorCpuSeconds * 1e6 / Math.Max(report.Sent, 1):N0} µs a request)");
        figures.AddRow("POST latency", Latency(report.IssueLatencyMs));
        figures.AddRow("  of the accepted", Latency(report.AcceptedLatencyMs));
        figures.AddRow($"Click -> result ({sale.Result})", Latency(report.ClickToResultMs));
        figures.AddRow("  clicked after 1 s", Latency(report.ClickToResultAfterFirstSecondMs));
        figures.AddRow("Accepted -> decided", Latency(report.AcceptedToDecidedMs));
        figures.AddRow("Decided -> client knew", Latency(report.DecidedToResultMs));
        figures.AddRow("Drain", report.DrainSeconds is { } drain ? $"last decision {drain * 1000:N0} ms after the last acceptance" : "nothing decided");
        figures.AddRow("Read back", $"{report.Polling.Calls:N0} reads of outcomes the clients did not learn, {report.Polling.Errors:N0} failed");
        figures.AddRow("Outcomes", Markup.Escape(string.Join(", ", report.Outcomes.Select(o => $"{o.Key} {o.Value:N0}"))));
        figures.AddRow("Refusals, errors", Markup.Escape(report.Refusals.Count == 0 ? "none" : string.Join(", ", report.Refusals.Select(o => $"{o.Key} {o.Value:N0}"))));
        AnsiConsole.Write(figures);

        var policies = new Table().Border(border)
            .AddColumn("Policy").AddColumn(new TableColumn("Partition").RightAligned()).AddColumn(new TableColumn("Quantity").RightAligned())
            .AddColumn(new TableColumn("Users").RightAligned()).AddColumn(new TableColumn("Issued").RightAligned()).AddColumn(new TableColumn("issuedCount").RightAligned())
            .AddColumn(new TableColumn("Sold out").RightAligned()).AddColumn(new TableColumn("First 409").RightAligned()).AddColumn(new TableColumn("Late").RightAligned())
            .AddColumn("Order");
        var ordering = report.Ordering.ToDictionary(o => o.PolicyId);
        foreach (var policy in report.Policies)
        {
            var verdict = ordering.GetValueOrDefault(policy.Id);
            policies.AddRow(
                $"{policy.Id}",
                verdict?.Partition is { } partition ? $"{partition}" : "-",
                $"{policy.TotalQuantity:N0}",
                $"{policy.DistinctUsersAccepted:N0}",
                $"{policy.IssuedOutcomes:N0}",
                $"{policy.IssuedCount:N0}",
                Seconds(policy.SoldOutAfterSeconds),
                Seconds(policy.FirstSoldOutRefusalAfterSeconds),
                policy.AcceptedAfterSoldOut is { } late ? $"{late:N0}" : "-",
                verdict is null ? "not judged" : verdict.Ok ? $"[green]ok[/], {verdict.RequestsInLog:N0} logged" : "[red]BROKEN[/]");
        }

        AnsiConsole.Write(policies);

        var checks = new Table().Border(border).AddColumn("").AddColumn("Check").AddColumn("Detail");
        foreach (var invariant in report.Invariants)
        {
            checks.AddRow(Verdict(invariant.Ok), Markup.Escape(invariant.Name), Markup.Escape(invariant.Detail));
        }

        foreach (var broken in report.Ordering.Where(o => !o.Ok))
        {
            checks.AddRow(Verdict(false), Markup.Escape($"Order of policy {broken.PolicyId} (partition {broken.Partition?.ToString() ?? "-"})"), Markup.Escape(broken.Detail));
        }

        if (report.Ordering.Count > 0 && report.Ordering.All(o => o.Ok))
        {
            checks.AddRow(
                Verdict(true),
                "First come, first served per policy, against coupon-events",
                Markup.Escape($"{report.Ordering.Count} policies, {report.Ordering.Sum(o => o.RequestsInLog):N0} requests in the log: each once, one partition a policy, coupons to the first distinct users on their first requests"));
            checks.AddRow(
                Verdict(true),
                "Decisions on coupon-decisions agree with the outcomes and follow coupon-events' order",
                Markup.Escape($"{report.Ordering.Sum(o => o.DecisionsOnTopic):N0} decisions published for {report.Ordering.Sum(o => o.RequestsInLog):N0} requests: one each (and identical when published again), one partition a policy, in the requests' order, the quantity left falling with each coupon"));
        }

        AnsiConsole.Write(checks);
        AnsiConsole.MarkupLine(report.Held
            ? "[bold green]The sale held: every invariant holds, and every policy's order.[/]"
            : "[bold red]The sale did NOT hold: see FAILED above.[/]");
    }

    public static async Task WriteJsonAsync(FlashSaleReport report, FileInfo file, CancellationToken cancellationToken)
    {
        file.Directory?.Create();
        await using var stream = file.Create();
        await JsonSerializer.SerializeAsync(stream, report, ReportJson.Default.FlashSaleReport, cancellationToken);
    }

    private static string Verdict(bool ok) => ok ? "[green]ok[/]" : "[red]FAILED[/]";

    private static string Latency(LatencySummary latency) => latency.Count == 0
        ? "none"
        : $"p50 {latency.P50:0.0} ms, p99 {latency.P99:0.0} ms, max {latency.Max:0.0} ms ({latency.Count:N0})";

    private static string Seconds(double? seconds) => seconds is { } s ? $"{s:0.00} s" : "-";
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(FlashSaleReport))]
internal sealed partial class ReportJson : JsonSerializerContext;
