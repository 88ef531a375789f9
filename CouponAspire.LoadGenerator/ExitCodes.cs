namespace CouponAspire.LoadGenerator;

/// <summary>What the process exit code tells a script or CI.</summary>
internal static class ExitCodes
{
    public const int Held = 0;
    public const int InvariantBroken = 1;

    /// <summary>No verdict: bad options, the API unreachable or refusing the tokens, or nothing accepted at all.</summary>
    public const int CouldNotRun = 2;
}

/// <summary>The sale could not be run, for a reason the user can act on.</summary>
internal sealed class CannotRunException(string message, Exception? inner = null) : Exception(message, inner);
