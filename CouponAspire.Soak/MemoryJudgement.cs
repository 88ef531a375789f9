namespace CouponAspire.Soak;

/// <summary>How one process's working set moved after its first minute.</summary>
internal sealed record MemoryGrowth(string Label, string Service, double BaselineMb, double EndMb, double MaxMb, TimeSpan Judged)
{
    /// <summary>From the baseline to the end of the run (or of the process), as a fraction.</summary>
    public double Growth => EndMb / BaselineMb - 1;
}

/// <summary>
/// Memory flat: after its first minute (of the run, or of its own life if it started later), no process of the
/// system's own services grows its working set more than <see cref="Limit"/> by the end. The baseline is the median of
/// the samples of the minute after that first one, the end the median of the last three (a sample is one GC's moment).
/// A process judged over less than <see cref="MinimumJudged"/> is not judged (a replica restarted near the end). The
/// dashboard keeps telemetry up to its limits by design: sampled, not judged.
/// </summary>
internal static class MemoryJudgement
{
    public const double Limit = 0.10;
    public static readonly TimeSpan MinimumJudged = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan Settling = TimeSpan.FromMinutes(1);

    public static List<MemoryGrowth> Judge(IReadOnlyList<Sample> samples)
    {
        var growths = new List<MemoryGrowth>();
        foreach (var process in samples.SelectMany(s => s.Memory.Select(m => (s.At, m))).GroupBy(x => x.m.Label))
        {
            var service = process.First().m.Service;
            if (service == "dashboard")
            {
                continue;
            }

            var points = process.OrderBy(x => x.At).Select(x => (x.At, Mb: x.m.WorkingSet / 1048576.0)).ToList();
            var settled = points[0].At + Settling;
            var baseline = points.Where(p => p.At >= settled && p.At < settled + Settling).Select(p => p.Mb).ToList();
            var judged = points[^1].At - settled;
            if (baseline.Count == 0 || judged < MinimumJudged)
            {
                continue;
            }

            var end = points.TakeLast(3).Select(p => p.Mb).ToList();
            growths.Add(new MemoryGrowth(process.Key, service, Median(baseline), Median(end), points.Where(p => p.At >= settled).Max(p => p.Mb), judged));
        }

        return growths;
    }

    public static bool Flat(IEnumerable<MemoryGrowth> growths) => growths.All(g => g.Growth <= Limit);

    private static double Median(List<double> values)
    {
        values.Sort();
        return values.Count % 2 == 1 ? values[values.Count / 2] : (values[values.Count / 2 - 1] + values[values.Count / 2]) / 2;
    }
}
