namespace CouponAspire.LocalInfrastructure;

/// <summary>
/// Runtime settings for a whole system of .NET processes sharing a small machine (the AppHost's local run, the same
/// system run by hand for comparison), as environment variables: not the services' own defaults, which suit a
/// deployment where each has cores of its own. On two cores with six .NET processes, PostgreSQL and the mock cluster:
/// <list type="bullet">
/// <item>without dynamic PGO, each hot method is compiled twice after a start instead of three times (quickly, then
/// instrumented, then optimised): the background compiler threads took a third of the machine in a sale's first seconds;</item>
/// <item>code that is not precompiled (the services' own, Npgsql's, Confluent.Kafka's, OpenTelemetry's) is compiled
/// optimised at its first call instead of quickly first and again once hot; the framework's precompiled code still tiers
/// up. Without it, recompiling hot methods took 42 % of the machine in the first 8 s of a sale after a start (the three
/// consumer replicas 21 %, each compiling the same methods);</item>
/// <item>an idle thread-pool worker sleeps at once instead of spinning first: spinning took a third of a consumer's CPU,
/// in yields to threads waiting for the core it held;</item>
/// <item>workstation garbage collection: one heap per process, collected on the thread that allocates, rather than a heap
/// and a collector thread per core in every process.</item>
/// </list>
/// The processes that serve a sale (the API, the consumers) also get <see cref="ServingSettings"/>.
/// </summary>
public static class SmallMachine
{
    public static readonly IReadOnlyDictionary<string, string> RuntimeSettings = new Dictionary<string, string>
    {
        ["DOTNET_TieredPGO"] = "0",
        ["DOTNET_TC_QuickJit"] = "0",
        ["DOTNET_ThreadPool_UnfairSemaphoreSpinLimit"] = "0",
        ["DOTNET_gcServer"] = "0",
    };

    /// <summary>
    /// For the processes that serve a sale: the framework's precompiled code is not used, so every method is compiled
    /// once, optimised, at its first call, most of them before the process says it is ready. With precompiled code, the
    /// runtime compiles the framework's hot methods again in the background once a sale has made them hot: ~15 % of the
    /// machine in a sale's first 3 s, beside a full load. Costs each process ~1.6 s more compiling at its start, and as
    /// much again the <c>dotnet run</c> that the orchestrator starts it with, which inherits its environment.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> ServingSettings = new Dictionary<string, string>
    {
        ["DOTNET_ReadyToRun"] = "0",
    };
}
