namespace CouponAspire.Tests.Infrastructure;

/// <summary>Waiting for what the system does in its own time.</summary>
public static class Eventually
{
    /// <summary>
    /// Checks <paramref name="condition"/> every <paramref name="interval"/> (100 ms) until it holds or
    /// <paramref name="timeout"/> has passed, and tells whether it held; the caller asserts, with its own message.
    /// </summary>
    public static async Task<bool> HoldsAsync(Func<Task<bool>> condition, TimeSpan timeout, TimeSpan? interval = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(interval ?? TimeSpan.FromMilliseconds(100), TestContext.Current.CancellationToken);
        }

        return true;
    }

    public static Task<bool> HoldsAsync(Func<bool> condition, TimeSpan timeout, TimeSpan? interval = null) =>
        HoldsAsync(() => Task.FromResult(condition()), timeout, interval);
}
