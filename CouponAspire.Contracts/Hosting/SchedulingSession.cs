using System.Runtime.InteropServices;
using Microsoft.Extensions.Configuration;

namespace CouponAspire.Contracts.Hosting;

/// <summary>
/// Puts a service in a session of its own on Linux, when its host asks (<c>Scheduling:OwnSession</c>). Linux's scheduler
/// shares a busy machine between sessions first (autogroups) and only then between the processes of each session. The
/// orchestrator starts every service in the one session it runs in, so under load the API, every consumer replica, the
/// mock cluster and the dashboard shared one session's part of the cores, against a whole part for each PostgreSQL
/// backend (PostgreSQL gives each its own session) and for a load tool started from a terminal: the API served ~0.65× what
/// the same build served started by hand (<c>benchmarks/apphost-overhead.sh</c>). A session of its own is what a
/// service gets under systemd or in a container.
/// </summary>
public static class SchedulingSession
{
    public const string OwnSessionKey = "Scheduling:OwnSession";

    /// <summary>The nice value of the new session's scheduling group (0 to 19; higher: a smaller part of a busy machine).</summary>
    public const string NiceKey = "Scheduling:Nice";

    /// <summary>Whether the process now leads a session of its own (false where not asked, not Linux, or refused).</summary>
    public static bool StartOwnIfAsked(IConfiguration configuration)
    {
        if (!configuration.GetValue(OwnSessionKey, false) || !OperatingSystem.IsLinux())
        {
            return false;
        }

        // Fails only for a process that already leads its process group; nothing to undo then.
        if (setsid() == -1)
        {
            return false;
        }

        if (configuration.GetValue(NiceKey, 0) is var nice and > 0)
        {
            try
            {
                File.WriteAllText("/proc/self/autogroup", nice.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
            catch (IOException)
            {
                // A kernel without autogroups: the session alone is what there is.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return true;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int setsid();
}
