using System.ComponentModel;
using System.Diagnostics;
using Microsoft.Extensions.Configuration;

namespace CouponAspire.AppHost.Infrastructure;

/// <summary>Where Kafka and PostgreSQL come from: the <c>Infrastructure</c> setting of the AppHost.</summary>
public enum InfrastructureMode
{
    /// <summary>Containers when a container runtime answers, else local processes (the default).</summary>
    Auto,

    /// <summary>Kafka and PostgreSQL in containers (Docker, or Podman with <c>ASPIRE_CONTAINER_RUNTIME=podman</c>).</summary>
    Containers,

    /// <summary>PostgreSQL from the machine's binaries, Kafka as librdkafka's mock cluster, each a process of its own.</summary>
    Local,
}

/// <summary>The infrastructure decided on, and why, for the console and the dashboard.</summary>
public sealed record InfrastructureChoice(InfrastructureMode Mode, string Reason)
{
    public const string SettingName = "Infrastructure";

    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Decided before the model is built: a container resource without a runtime never starts (and makes everything
    /// that waits for it wait forever), and Aspire's own runtime check is only available once the model is built.
    /// Publish mode always describes containers: a deployment has no local binaries to run.
    /// </summary>
    public static InfrastructureChoice Decide(IDistributedApplicationBuilder builder)
    {
        if (builder.ExecutionContext.IsPublishMode)
        {
            return new(InfrastructureMode.Containers, "publish mode describes a deployment");
        }

        var configured = builder.Configuration.GetValue(SettingName, InfrastructureMode.Auto);
        if (configured != InfrastructureMode.Auto)
        {
            return new(configured, $"{SettingName}={configured}");
        }

        var runtime = builder.Configuration["ASPIRE_CONTAINER_RUNTIME"] is { Length: > 0 } chosen ? chosen : "docker";
        return ContainerRuntimeAnswers(runtime)
            ? new(InfrastructureMode.Containers, $"`{runtime} info` answered")
            : new(InfrastructureMode.Local, $"no container runtime answered `{runtime} info`");
    }

    private static bool ContainerRuntimeAnswers(string runtime)
    {
        try
        {
            using var probe = Process.Start(new ProcessStartInfo(runtime, ["info"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (probe is null)
            {
                return false;
            }

            probe.StandardOutput.ReadToEndAsync();
            probe.StandardError.ReadToEndAsync();
            if (!probe.WaitForExit(ProbeTimeout))
            {
                probe.Kill(entireProcessTree: true);
                return false;
            }

            return probe.ExitCode == 0;
        }
        catch (Win32Exception)
        {
            // Not installed.
            return false;
        }
    }
}
