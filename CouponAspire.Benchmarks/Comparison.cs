using CouponAspire.Contracts.Events;
using CouponAspire.Data;
using CouponAspire.LocalInfrastructure;

namespace CouponAspire.Benchmarks;

/// <summary>One way of deciding the stream, measured from its first request to its last decision.</summary>
internal sealed record Variant(string Name, Func<HotPolicyStream, CancellationToken, Task<VariantRun>> RunOnceAsync);

/// <summary>What one run of a variant took, and the outcome of each request of the stream, in stream order.</summary>
internal sealed record VariantRun(TimeSpan Elapsed, IReadOnlyList<IssuanceOutcome> Outcomes, string Detail = "");

/// <summary>The variants disagreed, or decided what the stream does not allow: the figures mean nothing.</summary>
internal sealed class BenchmarkFailedException(string message) : Exception(message);

/// <summary>
/// The skeleton both benchmarks share: every variant decides the same stream, on a fresh database each time, round after
/// round with the order rotated (so that none always runs first or last on a machine that warms up and heats up), and
/// every run must decide every request exactly as the first did. Reports each variant's median rate.
/// </summary>
internal static class Comparison
{
    public static async Task<IReadOnlyDictionary<string, double>> RunAsync(
        HotPolicyStream stream, IReadOnlyList<Variant> variants, int rounds, CancellationToken cancellationToken)
    {
        var rates = variants.ToDictionary(v => v.Name, _ => new List<double>());
        IReadOnlyList<IssuanceOutcome>? reference = null;
        for (var round = 1; round <= rounds; round++)
        {
            for (var i = 0; i < variants.Count; i++)
            {
                var variant = variants[(round - 1 + i) % variants.Count];
                var run = await variant.RunOnceAsync(stream, cancellationToken);
                Check(stream, variant.Name, run.Outcomes, reference ??= run.Outcomes);
                var rate = stream.Requests.Count / run.Elapsed.TotalSeconds;
                rates[variant.Name].Add(rate);
                Console.WriteLine($"round {round}: {variant.Name,-22} {rate,10:N0} decisions/s ({run.Elapsed.TotalMilliseconds:N0} ms){(run.Detail.Length == 0 ? "" : "; " + run.Detail)}");
            }
        }

        Console.WriteLine("Outcomes identical in every run: " + string.Join(", ", reference!.CountBy(o => o).Select(p => $"{p.Key} {p.Value:N0}")));
        var medians = rates.ToDictionary(r => r.Key, r => LatencySummary.Median(r.Value));
        foreach (var (name, median) in medians)
        {
            Console.WriteLine($"median {name + ":",-23} {median,10:N0} decisions/s (of {rates[name].Count}: {string.Join(", ", rates[name].Select(r => r.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)))})");
        }

        return medians;
    }

    public static void PrintRatio(IReadOnlyDictionary<string, double> medians, string numerator, string denominator) =>
        Console.WriteLine($"ratio {numerator} / {denominator}: {medians[numerator] / medians[denominator]:F2}");

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
