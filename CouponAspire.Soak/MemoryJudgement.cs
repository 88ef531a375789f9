namespace CouponAspire.Soak;

/// <summary>How one service's working set moved after the run's first minute.</summary>
/// <param name="AllowanceMb">Growth the service may show by design (the mock cluster filling its partitions up to their bound).</param>
internal sealed record MemoryGrowth(string Service, double BaselineMb, double EndMb, double MaxMb, double AllowanceMb)
{
    /// <summary>From the baseline to the end of the run, less the allowance, as a fraction.</summary>
    public double Growth => (EndMb - AllowanceMb) / BaselineMb - 1;
}

/// <summary>
/// Memory flat: after the run's first minute, no service's working set grows more than <see cref="Limit"/> by the end.
/// A service's figure at a sample is the mean of its processes then (the consumer's replicas come and go: each is
/// stopped and started again every few minutes). The baseline is the median of the minute after the first one, the
/// end the median of the last three samples (a sample is one moment of the garbage collector's cycle). The mock
/// cluster keeps up to 5 MB a partition and fills towards it; that much growth is allowed it. The dashboard keeps
/// telemetry up to its own limits: sampled, not judged.
/// </summary>
internal static class MemoryJudgement
{
    public const double Limit = 0.10;
    private static readonly TimeSpan Settling = TimeSpan.FromMinutes(1);

    public static List<MemoryGrowth> Judge(IReadOnlyList<Sample> samples, IReadOnlyDictionary<string, double>? allowancesMb = null)
    {
        var growths = new List<MemoryGrowth>();
        if (samples.Count == 0)
        {
            return growths;
        }

        var settled = samples[0].At + Settling;
        foreach (var service in samples.SelectMany(s => s.Memory).Select(m => m.Service).Distinct().Where(s => s != "dashboard").Order(StringComparer.Ordinal))
        {
            var points = samples
                .Select(s => (s.At, Processes: s.Memory.Where(m => m.Service == service).ToList()))
                .Where(p => p.Processes.Count > 0)
                .Select(p => (p.At, Mb: p.Processes.Average(m => m.WorkingSet) / 1048576.0))
                .ToList();
            var baseline = points.Where(p => p.At >= settled && p.At < settled + Settling).Select(p => p.Mb).ToList();
            var after = points.Where(p => p.At >= settled + Settling).ToList();
            if (baseline.Count == 0 || after.Count == 0)
            {
                continue;
            }

            growths.Add(new MemoryGrowth(
                service, Median(baseline), Median([.. points.TakeLast(3).Select(p => p.Mb)]), points.Where(p => p.At >= settled).Max(p => p.Mb),
                allowancesMb?.GetValueOrDefault(service) ?? 0));
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
