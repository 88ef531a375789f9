using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace CouponAspire.Soak;

/// <summary>One sale of the soak, as the load generator judged it.</summary>
internal sealed record SaleVerdict(int Number, TimeSpan StartedAt, TimeSpan EndedAt, int ExitCode, bool Held, long Sent, long Accepted, double RequestsPerSecond, double? P99Ms, string Summary);

/// <summary>
/// Sales one after another, each the load generator's (<c>CouponAspire.LoadGenerator</c>, built beside this tool): a
/// paced load over a few new policies that sell out within the sale, then the generator's judgement of every invariant
/// and of each policy's order against <c>coupon-events</c>, read from its JSON report.
/// </summary>
internal sealed class SaleLoop(string loadGenerator, string output, double rate, TimeSpan saleLength, int policies)
{
    public List<SaleVerdict> Sales { get; } = [];

    /// <summary>Runs one sale to its verdict.</summary>
    public async Task<SaleVerdict> RunSaleAsync(DateTimeOffset soakStart, CancellationToken cancellationToken)
    {
        var number = Sales.Count + 1;
        var requests = (int)(rate * saleLength.TotalSeconds);
        // Each policy gets rate / policies requests a second, nearly all from new users: it sells out about halfway.
        var quantity = Math.Max(1, requests / policies / 2);
        var report = Path.Combine(output, $"sale-{number:D4}.json");
        var log = Path.Combine(output, $"sale-{number:D4}.log");
        var startedAt = DateTimeOffset.UtcNow - soakStart;
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList =
            {
                loadGenerator, "--plain", "--json", report,
                "--duration", saleLength.TotalSeconds.ToString(CultureInfo.InvariantCulture),
                "--rate", rate.ToString(CultureInfo.InvariantCulture),
                "--policies", policies.ToString(CultureInfo.InvariantCulture),
                "--quantity", quantity.ToString(CultureInfo.InvariantCulture),
                "--requests", requests.ToString(CultureInfo.InvariantCulture),
                "--users", requests.ToString(CultureInfo.InvariantCulture),
                "--concurrency", "64",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the load generator.");
        await using (var file = File.CreateText(log))
        {
            var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken);
            await file.WriteAsync(await stdout);
            await file.WriteAsync(await stderr);
        }

        var verdict = Read(number, startedAt, DateTimeOffset.UtcNow - soakStart, process.ExitCode, report);
        Sales.Add(verdict);
        return verdict;
    }

    private static SaleVerdict Read(int number, TimeSpan startedAt, TimeSpan endedAt, int exitCode, string report)
    {
        if (!File.Exists(report))
        {
            return new SaleVerdict(number, startedAt, endedAt, exitCode, false, 0, 0, 0, null, $"no report (exit code {exitCode})");
        }

        using var json = JsonDocument.Parse(File.ReadAllBytes(report));
        var root = json.RootElement;
        var held = root.GetProperty("held").GetBoolean();
        var p99 = root.TryGetProperty("acceptedToDecidedMs", out var latency) && latency.ValueKind == JsonValueKind.Object
                  && latency.TryGetProperty("p99", out var value) && value.ValueKind == JsonValueKind.Number
            ? value.GetDouble()
            : (double?)null;
        var broken = root.GetProperty("invariants").EnumerateArray().Where(i => !i.GetProperty("ok").GetBoolean())
            .Select(i => $"{i.GetProperty("name").GetString()}: {i.GetProperty("detail").GetString()}")
            .Concat(root.GetProperty("ordering").EnumerateArray().Where(o => !o.GetProperty("ok").GetBoolean())
                .Select(o => $"policy {o.GetProperty("policyId").GetInt64()}: {o.GetProperty("detail").GetString()}"))
            .ToList();
        var orderingRows = root.GetProperty("ordering").GetArrayLength();
        var summary = held
            ? $"held ({orderingRows} policies' order judged against the log)"
            : $"BROKEN: {string.Join("; ", broken.DefaultIfEmpty($"exit code {exitCode}"))}";
        return new SaleVerdict(
            number, startedAt, endedAt, exitCode, held && exitCode == 0,
            root.GetProperty("sent").GetInt64(), root.GetProperty("accepted").GetInt64(), root.GetProperty("requestsPerSecond").GetDouble(), p99, summary);
    }
}
