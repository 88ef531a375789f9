using System.Diagnostics;
using System.Globalization;
using CouponAspire.Consumer.Issuance;
using CouponAspire.Data;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace CouponAspire.Benchmarks;

/// <summary>
/// The engine alone as a consumer replica has it, for the end-to-end benchmark to be compared with: a process of its own,
/// started fresh for each run as the end-to-end run's consumer is, with the consumer's runtime settings (server GC,
/// tiered compilation), its data source, its warm-up and the stream's before the clock starts. The two then differ only in
/// the path around the engine. (Run in the benchmark's own process instead, the engine gets faster round after round,
/// and the ratio would say more about how many rounds were run than about that path.)
/// </summary>
internal static class EngineProcess
{
    public const string CommandName = "engine-process";

    private const string ElapsedPrefix = "elapsed-ms: ";
    private const string FirstSecondPrefix = "first-second-decisions: ";

    /// <summary>
    /// In the process of its own: warms the engine up, decides the stream's warm-up and then the stream in batches, prints
    /// how long the stream took and what the warm-up's first second decided.
    /// </summary>
    public static async Task<int> RunAsync(string connectionString, int requests, int seed, int batchSize, IssuanceStrategy strategy, CancellationToken cancellationToken)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [$"ConnectionStrings:{CouponDatabase.ConnectionName}"] = connectionString,
            ["Issuance:Strategy"] = strategy.ToString(),
        });
        builder.AddCouponDatabase();
        builder.Services.AddIssuanceEngine(builder.Configuration);
        using var host = builder.Build();
        var engine = host.Services.GetRequiredService<IIssuanceEngine>();
        await engine.WarmUpAsync(batchSize, cancellationToken);

        var stream = HotPolicyStream.Create(requests, seed);
        var firstSecond = new FirstSecond();
        foreach (var batch in stream.WarmUp.Requests.Chunk(batchSize))
        {
            await engine.DecideAsync(batch, cancellationToken);
            firstSecond.Add(batch.Length);
        }

        await Task.Delay(HotPolicyStream.Settle, cancellationToken);
        var clock = Stopwatch.StartNew();
        foreach (var batch in stream.Requests.Chunk(batchSize))
        {
            await engine.DecideAsync(batch, cancellationToken);
        }

        Console.WriteLine(ElapsedPrefix + clock.Elapsed.TotalMilliseconds.ToString(CultureInfo.InvariantCulture));
        Console.WriteLine(FirstSecondPrefix + firstSecond.Decided.ToString(CultureInfo.InvariantCulture));
        return 0;
    }

    /// <summary>A run of the engine in a fresh process, on a fresh database: its time, and the outcomes it stored.</summary>
    public static Variant Engine(IssuanceStrategy strategy, HotPolicyStream stream, string serverConnection, int batchSize, string name) => new(name, stream, async (stream, cancellationToken) =>
    {
        await using var database = await HotPolicyDatabase.CreateAsync(serverConnection, $"engine_{strategy.ToString().ToLowerInvariant()}", stream, cancellationToken);
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            // With the consumer's runtime settings, not the benchmark's own.
            "exec", "--runtimeconfig", Path.Combine(AppContext.BaseDirectory, "CouponAspire.Consumer.runtimeconfig.json"),
            Path.Combine(AppContext.BaseDirectory, "CouponAspire.Benchmarks.dll"), CommandName,
            "--connection", database.ConnectionString,
            "--requests", stream.Requests.Count.ToString(CultureInfo.InvariantCulture),
            "--seed", stream.Seed.ToString(CultureInfo.InvariantCulture),
            "--batch-size", batchSize.ToString(CultureInfo.InvariantCulture),
            "--strategy", strategy.ToString(),
        })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the engine's process.");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var errors = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        var lines = (await output).Split('\n').Select(l => l.Trim()).ToArray();
        var elapsed = lines.FirstOrDefault(l => l.StartsWith(ElapsedPrefix, StringComparison.Ordinal));
        var firstSecond = lines.FirstOrDefault(l => l.StartsWith(FirstSecondPrefix, StringComparison.Ordinal));
        if (process.ExitCode != 0 || elapsed is null || firstSecond is null)
        {
            throw new BenchmarkFailedException($"The engine's process exited with code {process.ExitCode}: {await errors}");
        }

        return new VariantRun(
            TimeSpan.FromMilliseconds(double.Parse(elapsed[ElapsedPrefix.Length..], CultureInfo.InvariantCulture)),
            int.Parse(firstSecond[FirstSecondPrefix.Length..], CultureInfo.InvariantCulture),
            await database.OutcomesAsync(stream, cancellationToken));
    });
}
