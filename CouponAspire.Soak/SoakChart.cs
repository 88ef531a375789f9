using ScottPlot;

namespace CouponAspire.Soak;

/// <summary>A restart the soak made, marked on the chart.</summary>
internal sealed record SoakEvent(TimeSpan At, string What);

/// <summary>
/// The soak in one picture: four panels over the run's minutes — decisions a second, accepted→decided p99, the consumer
/// group's lag, and each process's working set — with every restart marked (dashed: a consumer replica stopped, dotted:
/// started again, solid: the API restarted).
/// </summary>
internal static class SoakChart
{
    public static void Save(string path, IReadOnlyList<Sample> samples, IReadOnlyList<SoakEvent> events, string title)
    {
        var multiplot = new Multiplot();
        multiplot.AddPlots(4);
        var minutes = samples.Select(s => s.At.TotalMinutes).ToArray();

        var rate = multiplot.GetPlot(0);
        rate.Title(title);
        rate.Add.ScatterLine(minutes, samples.Select(s => s.DecidedPerSecond).ToArray()).LegendText = "decided / s";
        rate.Axes.Left.Label.Text = "requests / s";

        var latency = multiplot.GetPlot(1);
        var withP99 = samples.Where(s => s.P99Ms is not null).ToList();
        latency.Add.ScatterLine(withP99.Select(s => s.At.TotalMinutes).ToArray(), withP99.Select(s => s.P99Ms!.Value).ToArray()).LegendText = "accepted→decided p99";
        latency.Axes.Left.Label.Text = "ms";

        var lag = multiplot.GetPlot(2);
        lag.Add.ScatterLine(minutes, samples.Select(s => (double)s.Lag).ToArray()).LegendText = "consumer lag (committed)";
        lag.Axes.Left.Label.Text = "messages";

        var memory = multiplot.GetPlot(3);
        foreach (var process in samples.SelectMany(s => s.Memory.Select(m => (s.At, m))).GroupBy(x => x.m.Label).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var line = memory.Add.ScatterLine(
                process.Select(x => x.At.TotalMinutes).ToArray(),
                process.Select(x => x.m.WorkingSet / 1048576.0).ToArray());
            line.LegendText = process.Key;
            line.LineWidth = 1.5f;
        }

        memory.Axes.Left.Label.Text = "working set, MB";
        memory.Axes.Bottom.Label.Text = "minutes";

        foreach (var plot in new[] { rate, latency, lag, memory })
        {
            foreach (var @event in events)
            {
                var marker = plot.Add.VerticalLine(@event.At.TotalMinutes);
                marker.LineWidth = 1;
                marker.Color = @event.What.StartsWith("api", StringComparison.Ordinal) ? Colors.Red.WithAlpha(0.6) : Colors.Gray.WithAlpha(0.5);
                marker.LinePattern = @event.What.Contains("stopped", StringComparison.Ordinal) ? LinePattern.Dashed
                    : @event.What.Contains("started", StringComparison.Ordinal) ? LinePattern.Dotted
                    : LinePattern.Solid;
            }

            plot.Axes.AutoScale();
            plot.Axes.SetLimitsY(0, plot.Axes.GetLimits().Top * 1.05);
            plot.ShowLegend(Alignment.UpperLeft);
        }

        multiplot.SavePng(path, 1400, 1600);
    }
}
