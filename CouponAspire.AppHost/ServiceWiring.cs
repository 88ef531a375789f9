using System.Globalization;
using CouponAspire.AppHost.Infrastructure;

namespace CouponAspire.AppHost;

internal static class ServiceWiring
{
    /// <summary>
    /// What the API and the consumer share: <c>ConnectionStrings__kafka</c> and <c>ConnectionStrings__coupondb</c>,
    /// waiting until both are healthy and the schema is migrated, the partition count of the topics for whichever creates
    /// them, how many traces a second each process exports, and the consumer settings the chosen Kafka needs (both read
    /// topics: the consumer its requests, the API the decisions). Only the connection strings: the services read nothing
    /// else, and a deployment's environment then holds no separate copies of the database password.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithCouponInfrastructure(
        this IResourceBuilder<ProjectResource> service, CouponInfrastructure infrastructure, IResourceBuilder<ProjectResource> migrations, int partitions, int tracesPerSecond) =>
        service
            .WithReferenceEnvironment(ReferenceEnvironmentInjectionFlags.ConnectionString)
            .WithReference(infrastructure.Kafka).WaitFor(infrastructure.Kafka)
            .WithReference(infrastructure.Database).WaitFor(infrastructure.Database)
            .WaitForCompletion(migrations)
            .WithEnvironment("CouponEvents__Partitions", partitions.ToString(CultureInfo.InvariantCulture))
            .WithEnvironment("Telemetry__TracesPerSecond", tracesPerSecond.ToString(CultureInfo.InvariantCulture))
            .WithEnvironment(context =>
            {
                foreach (var (key, value) in infrastructure.ConsumerSettings)
                {
                    context.EnvironmentVariables[key] = value ?? "";
                }
            });
}
