namespace CouponAspire.Tests.Telemetry;

/// <summary>
/// Tests of what is sampled. Activity listeners are process-wide: while another test's services trace everything
/// (<c>Telemetry:TracesPerSecond</c> 0), every span of the same sources is created and exported by every provider, so
/// these run alone, after the tests that run in parallel.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TracingCollection
{
    public const string Name = "Trace sampling";
}
