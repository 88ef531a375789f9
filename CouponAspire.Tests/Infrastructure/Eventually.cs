namespace CouponAspire.Tests.Infrastructure;

/// <summary>Waiting for what the system does in its own time: for a state, never for the clock.</summary>
public static class Eventually
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Checks <paramref name="condition"/> until it holds; fails the test with <paramref name="what"/> (and the last
    /// state <paramref name="describe"/> gives) when it has not within <paramref name="timeout"/>.
    /// </summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what, TimeSpan timeout, Func<Task<string>>? describe = null)
    {
        if (!await HoldsWithinAsync(condition, timeout))
        {
            throw new TimeoutException($"Waited {timeout.TotalSeconds:0.#} s for {what}, in vain.{(describe is null ? "" : " " + await describe())}");
        }
    }

    public static Task UntilAsync(Func<bool> condition, string what, TimeSpan timeout, Func<string>? describe = null) =>
        UntilAsync(() => Task.FromResult(condition()), what, timeout, describe is null ? null : () => Task.FromResult(describe()));

    /// <summary>Whether <paramref name="condition"/> came to hold within <paramref name="timeout"/>, for a caller that tries again.</summary>
    public static async Task<bool> HoldsWithinAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(Interval, TestContext.Current.CancellationToken);
        }

        return true;
    }
}
