using CouponAspire.LocalInfrastructure;
using Microsoft.Extensions.Configuration;

namespace CouponAspire.AppHost.Infrastructure;

/// <summary>
/// The <c>TuneForSmallMachine</c> setting: in run mode with local infrastructure (the whole system as processes on one
/// machine, typically a laptop or a CI runner), every .NET process the AppHost starts gets the runtime settings of
/// <see cref="SmallMachine.RuntimeSettings"/>, and the processes that serve a sale (<paramref name="serving"/>) those of
/// <see cref="SmallMachine.ServingSettings"/> too. Never in publish mode or with containers: a deployment's services keep
/// the runtime's defaults, which suit a service with cores of its own.
/// </summary>
internal static class SmallMachineTuning
{
    public const string SettingName = "TuneForSmallMachine";

    public static void TuneForSmallMachine(this IDistributedApplicationBuilder builder, CouponInfrastructure infrastructure, params IResourceBuilder<ProjectResource>[] serving)
    {
        if (!builder.ExecutionContext.IsRunMode || infrastructure.Choice.Mode != InfrastructureMode.Local || !builder.Configuration.GetValue(SettingName, true))
        {
            return;
        }

        foreach (var project in builder.Resources.OfType<ProjectResource>())
        {
            var settings = serving.Any(s => s.Resource == project)
                ? SmallMachine.RuntimeSettings.Concat(SmallMachine.ServingSettings)
                : SmallMachine.RuntimeSettings;
            builder.CreateResourceBuilder(project).WithEnvironment(context =>
            {
                foreach (var (name, value) in settings)
                {
                    context.EnvironmentVariables[name] = value;
                }
            });
        }
    }
}
