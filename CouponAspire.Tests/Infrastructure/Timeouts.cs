namespace CouponAspire.Tests.Infrastructure;

/// <summary>
/// How long a test may run before it fails as hung, by what it starts: every test has one, so that a hang fails the test
/// that hangs, with its name, rather than the whole run.
/// </summary>
public static class Timeouts
{
    /// <summary>Logic alone: no server, no process.</summary>
    public const int Unit = 30_000;

    /// <summary>A system of the test's own: a database, the mock cluster, the services in the test's process or beside it.</summary>
    public const int System = 180_000;

    /// <summary>A fault drill: a sale, the fault, its effect and the recovery, each waited for within a patience of minutes.</summary>
    public const int Fault = 480_000;

    /// <summary>The whole AppHost through its orchestrator (its start is shared by the tests of a class).</summary>
    public const int AppHost = 600_000;
}
