namespace CouponAspire.LocalInfrastructure;

/// <summary>
/// Percentiles of a series, nearest rank: each one is a value that was measured, never an interpolation. The one
/// percentile rule of the load generator and the benchmarks.
/// </summary>
public sealed record LatencySummary(int Count, double P50, double P95, double P99, double Max)
{
    public static readonly LatencySummary Empty = new(0, 0, 0, 0, 0);

    /// <summary>Sorts <paramref name="values"/> in place.</summary>
    public static LatencySummary Of(double[] values)
    {
        if (values.Length == 0)
        {
            return Empty;
        }

        Array.Sort(values);
        return new LatencySummary(values.Length, Percentile(values, 50), Percentile(values, 95), Percentile(values, 99), values[^1]);
    }

    /// <summary>The median: the middle value (of an even count, the lower of the middle two).</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? 0 : Percentile(sorted, 50);
    }

    /// <summary>The smallest value that at least <paramref name="percent"/> % of the sorted values do not exceed.</summary>
    public static double Percentile(double[] sorted, double percent)
    {
        var rank = (int)Math.Ceiling(percent / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }
}
