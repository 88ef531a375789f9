using System.Diagnostics;

namespace CouponAspire.LoadGenerator;

/// <summary>
/// Shows the counters while the sale runs: one line, redrawn in place four times a second on a terminal, or printed
/// once a second where the output is a log (CI, the Aspire dashboard's console).
/// </summary>
internal sealed class ProgressView(LiveCounters counters, bool live)
{
    private LiveSnapshot _previous;
    private long _previousAt = Stopwatch.GetTimestamp();

    public async Task RunAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(live ? 250 : 1000));
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                Show();
            }
        }
        catch (OperationCanceledException)
        {
        }

        // Once more, so that the last state stays on screen.
        Show();
        if (live)
        {
            Console.WriteLine();
        }
    }

    private void Show()
    {
        var now = counters.Read();
        var at = Stopwatch.GetTimestamp();
        var seconds = Stopwatch.GetElapsedTime(_previousAt, at).TotalSeconds;
        var rate = seconds > 0 ? (now.Calls - _previous.Calls) / seconds : 0;
        (_previous, _previousAt) = (now, at);

        var line = $"[{now.Phase} {now.PhaseElapsed.TotalSeconds,5:0.0} s] sent {now.Sent:N0}, accepted {now.Accepted:N0}, refused {now.Refused:N0}, errors {now.Errors:N0} | {rate:N0} req/s | decided {now.Decided:N0}"
                   + (now.ToDecide == 0 ? "" : $" of {now.ToDecide:N0}");
        if (live)
        {
            Console.Write($"\r{line,-110}");
        }
        else
        {
            Console.WriteLine(line);
        }
    }
}
