using System.Diagnostics;
using System.Globalization;
using CouponAspire.Contracts.Events;
using CouponAspire.LocalInfrastructure;

namespace CouponAspire.Benchmarks;

/// <summary>One way of deciding a stream, measured from its first request to its last decision.</summary>
internal sealed record Variant(string Name, HotPolicyStream Stream, Func<HotPolicyStream, CancellationToken, Task<VariantRun>> RunOnceAsync);

/// <summary>
/// One run of a variant in a fresh process: how long it took to decide the stream once it had decided the stream's
/// warm-up (<see cref="HotPolicyStream.WarmUp"/>), how many of the warm-up's requests it decided in the first second of
/// it (the rate of a process just started: pools filling, code compiled again once hot), and the outcome of each request
/// of the stream, in stream order.
/// </summary>
internal sealed record VariantRun(TimeSpan Elapsed, int DecidedInFirstSecond, IReadOnlyList<IssuanceOutcome> Outcomes, string Detail = "")
{
    /// <summary>Decisions per second of the stream: the steady state, starting, connecting and compiling left out.</summary>
    public double SteadyRate => Outcomes.Count / Elapsed.TotalSeconds;
}

/// <summary>Counts the decisions made within the first second of a warm-up, batch by batch, as they are made.</summary>
internal sealed class FirstSecond
{
    public static readonly TimeSpan Length = TimeSpan.FromSeconds(1);

    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public TimeSpan Elapsed => _clock.Elapsed;
    public int Decided { get; private set; }

    public void Add(int decided)
    {
        if (_clock.Elapsed <= Length)
        {
            Decided += decided;
        }
    }
}

/// <summary>The variants disagreed, or decided what the stream does not allow: the figures mean nothing.</summary>
internal sealed class BenchmarkFailedException(string message) : Exception(message);

/// <summary>
/// The skeleton both benchmarks share: every variant decides its stream, on a fresh database each time, round after round
/// with the order rotated (so that none always runs first or last on a machine that warms up and heats up), and every run
/// must decide every request of a stream exactly as the first run of that stream did. Reports each variant's median
/// steady-state rate (the stream, after its warm-up) and the decisions of the warm-up's first second.
/// </summary>
internal static class Comparison
{
    public static async Task<IReadOnlyDictionary<string, double>> RunAsync(IReadOnlyList<Variant> variants, int rounds, CancellationToken cancellationToken)
    {
        var runs = variants.ToDictionary(v => v.Name, _ => new List<VariantRun>());
        var references = new Dictionary<HotPolicyStream, IReadOnlyList<IssuanceOutcome>>();
        for (var round = 1; round <= rounds; round++)
        {
            for (var i = 0; i < variants.Count; i++)
            {
                var variant = variants[(round - 1 + i) % variants.Count];
                var run = await variant.RunOnceAsync(variant.Stream, cancellationToken);
                Check(variant.Stream, variant.Name, run.Outcomes, references.TryGetValue(variant.Stream, out var reference) ? reference : references[variant.Stream] = run.Outcomes);
                runs[variant.Name].Add(run);
                Console.WriteLine(
                    $"round {round}: {variant.Name,-22} {run.SteadyRate,7:N0}/s steady ({run.Elapsed.TotalMilliseconds:N0} ms), " +
                    $"first second after the start {run.DecidedInFirstSecond,7:N0}{(run.Detail.Length == 0 ? "" : "; " + run.Detail)}");
            }
        }

        foreach (var (stream, reference) in references)
        {
            Console.WriteLine($"Outcomes identical in every run of {stream.Requests.Count:N0} requests: " + string.Join(", ", reference.CountBy(o => o).Select(p => $"{p.Key} {p.Value:N0}")));
        }

        var medians = new Dictionary<string, double>();
        foreach (var (name, all) in runs)
        {
            medians[name] = LatencySummary.Median([.. all.Select(r => r.SteadyRate)]);
            Console.WriteLine(
                $"median {name + ":",-23} {medians[name],10:N0} decisions/s steady (of {all.Count}: {string.Join(", ", all.Select(r => Format(r.SteadyRate)))}); " +
                $"first second after the start {LatencySummary.Median([.. all.Select(r => (double)r.DecidedInFirstSecond)]):N0} decisions");
        }

        return medians;
    }

    public static void PrintRatio(IReadOnlyDictionary<string, double> medians, string numerator, string denominator) =>
        Console.WriteLine($"ratio {numerator} / {denominator}: {medians[numerator] / medians[denominator]:F2}");

    private static string Format(double rate) => rate.ToString("N0", CultureInfo.InvariantCulture);

    private static void Check(HotPolicyStream stream, string variant, IReadOnlyList<IssuanceOutcome> outcomes, IReadOnlyList<IssuanceOutcome> reference)
    {
        var mismatch = Enumerable.Range(0, stream.Requests.Count).FirstOrDefault(i => outcomes[i] != reference[i], -1);
        if (mismatch >= 0)
        {
            throw new BenchmarkFailedException($"{variant} decided request #{mismatch} {outcomes[mismatch]}, the first run {reference[mismatch]}.");
        }

        var issued = outcomes.Count(o => o == IssuanceOutcome.Issued);
        if (issued != Math.Min(stream.Quantity, stream.DistinctUsers))
        {
            throw new BenchmarkFailedException($"{variant} issued {issued}, the stream allows {Math.Min(stream.Quantity, stream.DistinctUsers)}.");
        }
    }
}
