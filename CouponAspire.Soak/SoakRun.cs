using System.Globalization;
using CouponAspire.LocalInfrastructure;

namespace CouponAspire.Soak;

internal sealed record SoakSettings(TimeSpan Length, double Rate, TimeSpan SaleLength, int Policies, TimeSpan RestartEvery, DirectoryInfo Output, string Aspire);

/// <summary>The soak: sales, restarts and samples side by side for the run's length, then the verdict and the chart.</summary>
internal sealed class SoakRun(SoakSettings settings)
{
    private readonly List<SoakEvent> _events = [];
    private int _partitions;
    private DateTimeOffset _start;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var folder = DevelopmentCredentials.Folder();
        var repository = Path.GetDirectoryName(folder)!;
        var api = DevelopmentCredentials.Read(folder, DevelopmentCredentials.ApiUrlFile);
        var kafka = DevelopmentCredentials.Read(folder, DevelopmentCredentials.KafkaFile);
        var database = DevelopmentCredentials.Read(folder, DevelopmentCredentials.DatabaseFile);
        var loadGenerator = Path.Combine(repository, "CouponAspire.LoadGenerator", "bin", "Release", "net10.0", "CouponAspire.LoadGenerator.dll");
        if (api is null || kafka is null || database is null || !File.Exists(loadGenerator))
        {
            await Console.Error.WriteLineAsync($"Could not run: start the AppHost first (it writes {folder}) and build in Release ({loadGenerator}).");
            return 2;
        }

        settings.Output.Create();
        _partitions = CouponAspire.Ordering.TopicLogs.Ends(kafka).Count;
        var cli = new AspireCli(settings.Aspire, repository);
        var consumers = await cli.ReplicasAsync("consumer", cancellationToken);
        if (consumers.Count == 0)
        {
            await Console.Error.WriteLineAsync("Could not run: the Aspire CLI found no consumer replica (is the AppHost running?).");
            return 2;
        }

        Console.WriteLine(
            $"Soak of {settings.Length.TotalMinutes:N0} min at {settings.Rate:N0} requests/s: sales of {settings.SaleLength.TotalSeconds:N0} s over {settings.Policies} new policies each; "
            + $"a consumer replica of {consumers.Count} ({string.Join(", ", consumers)}) stopped and started every {settings.RestartEvery.TotalSeconds:N0} s; the API restarted once, halfway.");
        _start = DateTimeOffset.UtcNow;
        using var sampler = new Sampler(database, kafka);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var sampling = sampler.RunAsync(_start, stop.Token);
        var restarts = RestartConsumersAsync(cli, consumers, stop.Token);
        var sales = new SaleLoop(loadGenerator, settings.Output.FullName, settings.Rate, settings.SaleLength, settings.Policies);
        var apiRestarted = false;
        try
        {
            while (Elapsed < settings.Length - settings.SaleLength / 2)
            {
                var sale = await sales.RunSaleAsync(_start, cancellationToken);
                Console.WriteLine(
                    $"[{Elapsed:hh\\:mm\\:ss}] sale {sale.Number}: {sale.Sent:N0} sent at {sale.RequestsPerSecond:N0}/s, {sale.Accepted:N0} accepted, "
                    + $"p99 {sale.P99Ms?.ToString("N0", CultureInfo.InvariantCulture) ?? "-"} ms — {sale.Summary}");
                if (!apiRestarted && Elapsed >= settings.Length / 2)
                {
                    // Between sales: a sale's clients would count a restart's refused connections as unanswered requests.
                    apiRestarted = true;
                    await cli.CommandAsync("api", "restart", cancellationToken);
                    await WaitUntilHealthyAsync(new Uri(api), cancellationToken);
                    Mark("api restarted");
                }
            }
        }
        finally
        {
            await stop.CancelAsync();
            await restarts;
            await sampling;
        }

        return Conclude(sampler.Snapshot(), sales.Sales, apiRestarted);
    }

    private TimeSpan Elapsed => DateTimeOffset.UtcNow - _start;

    private void Mark(string what)
    {
        lock (_events)
        {
            _events.Add(new SoakEvent(Elapsed, what));
        }

        Console.WriteLine($"[{Elapsed:hh\\:mm\\:ss}] {what}");
    }

    /// <summary>Every minute the next replica in turn: stopped, left out while the group moves its partitions, started again.</summary>
    private async Task RestartConsumersAsync(AspireCli cli, List<string> consumers, CancellationToken cancellationToken)
    {
        for (var turn = 0; ; turn++)
        {
            try
            {
                await Task.Delay(settings.RestartEvery, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            var replica = consumers[turn % consumers.Count];
            try
            {
                await cli.CommandAsync(replica, "stop", CancellationToken.None);
                Mark($"{replica} stopped");
                try
                {
                    await Task.Delay(settings.RestartEvery / 4, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    // Started again below all the same: the soak never ends with a replica down.
                }

                await cli.CommandAsync(replica, "start", CancellationToken.None);
                Mark($"{replica} started");
            }
            catch (InvalidOperationException e)
            {
                Mark($"{replica}: {e.Message}");
            }

            if (cancellationToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private static async Task WaitUntilHealthyAsync(Uri api, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        for (var attempt = 0; attempt < 300; attempt++)
        {
            try
            {
                if ((await http.GetAsync(new Uri(api, "/health"), cancellationToken)).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }

            await Task.Delay(200, cancellationToken);
        }

        throw new TimeoutException($"The API at {api} was not healthy within a minute of its restart.");
    }

    private int Conclude(List<Sample> samples, List<SaleVerdict> sales, bool apiRestarted)
    {
        var csv = Path.Combine(settings.Output.FullName, "soak-samples.csv");
        File.WriteAllLines(csv, Sampler.Csv(samples));
        // The mock cluster keeps up to 5 MB of each partition of coupon-events (librdkafka's mock, fixed), and fills towards it.
        var allowances = new Dictionary<string, double> { ["kafka"] = 5.0 * _partitions };
        var growths = MemoryJudgement.Judge(samples, allowances);
        var flat = MemoryJudgement.Flat(growths);
        var held = sales.Count > 0 && sales.All(s => s.Held);
        var p99s = samples.Where(s => s.P99Ms is not null).Select(s => s.P99Ms!.Value).Order().ToList();
        var requests = sales.Sum(s => s.Sent);
        var title = $"Soak: {Elapsed.TotalMinutes:N0} min, {sales.Count} sales, {requests:N0} requests at {settings.Rate:N0}/s — {(held && flat ? "held" : "FAILED")}";
        var chart = Path.Combine(settings.Output.FullName, "soak.png");
        SoakChart.Save(chart, samples, _events, title);

        Console.WriteLine();
        Console.WriteLine("Memory after the first minute, per service (mean working set of its processes; the dashboard is sampled, not judged):");
        foreach (var growth in growths)
        {
            var allowance = growth.AllowanceMb > 0 ? $", less the {growth.AllowanceMb:N0} MB its partitions may hold" : "";
            Console.WriteLine(
                $"  {growth.Service,-9} {growth.BaselineMb,7:N1} MB → {growth.EndMb,7:N1} MB (max {growth.MaxMb:N1} MB): {growth.Growth:+0.0%;-0.0%}{allowance}{(growth.Growth > MemoryJudgement.Limit ? "  GREW" : "")}");
        }

        foreach (var sale in sales.Where(s => !s.Held))
        {
            Console.WriteLine($"  sale {sale.Number} at {sale.StartedAt:hh\\:mm\\:ss}: {sale.Summary}");
        }

        Console.WriteLine($"Samples: {csv}; chart: {chart}; each sale's report: {settings.Output.FullName}/sale-*.json");
        var restarts = _events.Count(e => e.What.EndsWith("stopped", StringComparison.Ordinal));
        var largest = growths.MaxBy(g => g.Growth);
        Console.WriteLine(
            $"Soak {(held && flat && apiRestarted ? "HELD" : "FAILED")}: {sales.Count(s => s.Held)} of {sales.Count} sales held ({requests:N0} requests, nothing lost), "
            + $"{restarts} replica stops, API restarted {(apiRestarted ? "once" : "never")}; accepted→decided p99 per 10 s median {Percentile(p99s, 0.5):N0} ms, worst {Percentile(p99s, 1):N0} ms; "
            + $"lag max {samples.DefaultIfEmpty().Max(s => s?.Lag ?? 0):N0}; memory {(flat ? "flat" : "GREW")} (largest growth {largest?.Service ?? "-"} {largest?.Growth ?? 0:+0.0%;-0.0%}).");
        return held && flat && apiRestarted ? 0 : 1;
    }

    private static double Percentile(List<double> sorted, double quantile) =>
        sorted.Count == 0 ? 0 : sorted[(int)Math.Min(sorted.Count - 1, Math.Round(quantile * (sorted.Count - 1)))];
}
