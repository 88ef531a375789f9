using System.Diagnostics;
using Spectre.Console;

namespace CouponAspire.LoadGenerator;

/// <summary>
/// Shows the counters while the sale runs: a live table on a terminal (four redraws a second, cheap beside the
/// requests), plain lines once a second where the output is a log (CI, the Aspire dashboard's console).
/// </summary>
internal sealed class ProgressView(LiveCounters counters, bool live)
{
    private static readonly TimeSpan LiveInterval = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan PlainInterval = TimeSpan.FromSeconds(1);

    private LiveSnapshot _previous;
    private long _previousAt = Stopwatch.GetTimestamp();

    public Task RunAsync(CancellationToken stop) => live
        ? AnsiConsole.Live(Render(Sample())).StartAsync(context => EveryAsync(LiveInterval, stop, () =>
        {
            context.UpdateTarget(Render(Sample()));
            context.Refresh();
        }))
        : EveryAsync(PlainInterval, stop, () => Console.WriteLine(Line(Sample())));

    /// <summary>Runs <paramref name="show"/> on every tick until stopped, and once more then, so the last state stays on screen.</summary>
    private static async Task EveryAsync(TimeSpan interval, CancellationToken stop, Action show)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                show();
            }
        }
        catch (OperationCanceledException)
        {
        }

        show();
    }

    private (LiveSnapshot Now, double CallsPerSecond) Sample()
    {
        var now = counters.Read();
        var at = Stopwatch.GetTimestamp();
        var seconds = Stopwatch.GetElapsedTime(_previousAt, at).TotalSeconds;
        var rate = seconds > 0 ? (now.Calls - _previous.Calls) / seconds : 0;
        (_previous, _previousAt) = (now, at);
        return (now, rate);
    }

    private static Table Render((LiveSnapshot Now, double CallsPerSecond) sample)
    {
        var (now, rate) = sample;
        return new Table().Border(TableBorder.Rounded)
            .AddColumns(Column("Phase"), Column("Sent"), Column("Accepted"), Column("Refused"), Column("Errors"), Column("HTTP req/s"), Column("Issued"), Column("Decided"))
            .AddRow(
                $"{now.Phase} {now.PhaseElapsed.TotalSeconds:0.0} s",
                $"{now.Sent:N0}",
                $"[green]{now.Accepted:N0}[/]",
                $"[yellow]{now.Refused:N0}[/]",
                now.Errors == 0 ? "0" : $"[red]{now.Errors:N0}[/]",
                $"{rate:N0}",
                $"{now.Issued:N0}",
                now.ToDecide == 0 ? $"{now.Decided:N0}" : $"{now.Decided:N0} / {now.ToDecide:N0}");
    }

    private static TableColumn Column(string header) => new TableColumn(header).RightAligned();

    private static string Line((LiveSnapshot Now, double CallsPerSecond) sample)
    {
        var (now, rate) = sample;
        return $"[{now.Phase} {now.PhaseElapsed.TotalSeconds,5:0.0} s] sent {now.Sent:N0}, accepted {now.Accepted:N0}, refused {now.Refused:N0}, errors {now.Errors:N0} | {rate:N0} req/s | issued {now.Issued:N0} | decided {now.Decided:N0}"
               + (now.ToDecide == 0 ? "" : $" of {now.ToDecide:N0}");
    }
}
