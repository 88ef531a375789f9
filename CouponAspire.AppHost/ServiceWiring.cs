using System.Globalization;
using CouponAspire.AppHost.Infrastructure;

namespace CouponAspire.AppHost;

internal static class ServiceWiring
{
    /// <summary>
    /// What the API and the consumer share: <c>ConnectionStrings__kafka</c> and <c>ConnectionStrings__coupondb</c>,
    /// waiting until both are healthy, the partition count of <c>coupon-events</c> for whichever creates it, and how many
    /// traces a second each process exports. Only the connection strings: the services read nothing else, and a
    /// deployment's environment then holds no separate copies of the database password.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithCouponInfrastructure(
        this IResourceBuilder<ProjectResource> service, CouponInfrastructure infrastructure, int partitions, int tracesPerSecond) =>
        service
            .WithReferenceEnvironment(ReferenceEnvironmentInjectionFlags.ConnectionString)
            .WithReference(infrastructure.Kafka).WaitFor(infrastructure.Kafka)
            .WithReference(infrastructure.Database).WaitFor(infrastructure.Database)
            .WithEnvironment("CouponEvents__Partitions", partitions.ToString(CultureInfo.InvariantCulture))
            .WithEnvironment("CouponTelemetry__TracesPerSecond", tracesPerSecond.ToString(CultureInfo.InvariantCulture));

    /// <summary>
    /// Asks a service started here to lead a session of its own on Linux (<c>Scheduling__OwnSession</c>, see
    /// <c>SchedulingSession</c>): the orchestrator starts every service in its own one session, and Linux's scheduler
    /// shares a busy machine between sessions before processes, so the whole system would get one session's part of the
    /// cores. Run mode only: a deployment's processes have their own.
    /// </summary>
    public static IResourceBuilder<T> WithOwnSchedulingSession<T>(this IResourceBuilder<T> service, int nice = 0)
        where T : IResourceWithEnvironment =>
        service.ApplicationBuilder.ExecutionContext.IsRunMode
            ? service.WithEnvironment("Scheduling__OwnSession", "true").WithEnvironment("Scheduling__Nice", nice.ToString(CultureInfo.InvariantCulture))
            : service;
}
