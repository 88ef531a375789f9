using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace CouponAspire.AppHost.Infrastructure;

/// <summary>
/// The health of a replicated project as the health of every replica. An HTTP health check of the resource's endpoint
/// goes through the orchestrator's proxy, which hands the probe's kept-alive connection to one replica and reports that
/// one's answer for all of them: a consumer replica still joining the group would show healthy because another is. This
/// check asks each running replica on its own address (its <c>ASPNETCORE_URLS</c>), and the resource is healthy only
/// when every one of them is. A replica stopped from the dashboard is not running and not asked.
/// </summary>
internal static class ReplicaHealth
{
    public static IResourceBuilder<ProjectResource> WithHttpHealthCheckOfEveryReplica(this IResourceBuilder<ProjectResource> project, string path)
    {
        var key = $"{project.Resource.Name}_every_replica_{path}_check";
        var services = project.ApplicationBuilder.Services;
        services.TryAddSingleton<ReplicaSnapshots>();
        // Probes every few seconds per replica: their outcome is the health report, not a log line each.
        services.AddHttpClient(nameof(ReplicaHealth), client => client.Timeout = TimeSpan.FromSeconds(5)).RemoveAllLoggers();
        services.AddHealthChecks().Add(new HealthCheckRegistration(
            key,
            provider => new EveryReplicaHealthCheck(
                project.Resource,
                path,
                provider.GetRequiredService<ReplicaSnapshots>(),
                provider.GetRequiredService<IHttpClientFactory>()),
            failureStatus: HealthStatus.Unhealthy,
            tags: null));
        return project.WithHealthCheck(key);
    }

    /// <summary>The latest state of every replica of every resource, kept from the orchestrator's notifications.</summary>
    private sealed class ReplicaSnapshots(ResourceNotificationService notifications, IHostApplicationLifetime lifetime)
    {
        private readonly ConcurrentDictionary<string, ResourceEvent> _latest = new();
        private int _watching;

        public IEnumerable<ResourceEvent> Of(IResource resource)
        {
            if (Interlocked.Exchange(ref _watching, 1) == 0)
            {
                _ = Task.Run(() => WatchAsync(lifetime.ApplicationStopping));
            }

            return _latest.Values.Where(e => ReferenceEquals(e.Resource, resource));
        }

        private async Task WatchAsync(CancellationToken cancellationToken)
        {
            try
            {
                // The watch starts with the current state of every resource, then every change.
                await foreach (var update in notifications.WatchAsync(cancellationToken))
                {
                    _latest[update.ResourceId] = update;
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
            }
        }
    }

    private sealed class EveryReplicaHealthCheck(IResource resource, string path, ReplicaSnapshots replicas, IHttpClientFactory clients) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var running = replicas.Of(resource).Where(e => e.Snapshot.State?.Text == KnownResourceStates.Running).ToList();
            if (running.Count == 0)
            {
                return HealthCheckResult.Unhealthy("No replica is running.");
            }

            var answers = await Task.WhenAll(running.Select(replica => AskAsync(replica, cancellationToken)));
            var worst = answers.Min(a => a.Status);
            var notHealthy = answers.Where(a => a.Status != HealthStatus.Healthy).Select(a => $"{a.Replica}: {a.Status}").ToList();
            return new HealthCheckResult(
                worst,
                notHealthy.Count == 0 ? $"{answers.Length} replica(s) healthy" : $"{notHealthy.Count} of {answers.Length} replica(s) not healthy ({string.Join(", ", notHealthy)})");
        }

        private async Task<(string Replica, HealthStatus Status)> AskAsync(ResourceEvent replica, CancellationToken cancellationToken)
        {
            var urls = replica.Snapshot.EnvironmentVariables.FirstOrDefault(v => v.Name == "ASPNETCORE_URLS")?.Value;
            var baseAddress = urls?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .FirstOrDefault(u => u.StartsWith("http://", StringComparison.OrdinalIgnoreCase));
            if (baseAddress is null)
            {
                return (replica.ResourceId, HealthStatus.Unhealthy);
            }

            try
            {
                using var response = await clients.CreateClient(nameof(ReplicaHealth)).GetAsync(new Uri(new Uri(baseAddress), path), cancellationToken);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return (replica.ResourceId, HealthStatus.Healthy);
                }

                // The services answer Degraded and Unhealthy both with 503, and name which in the body.
                var body = await response.Content.ReadAsStringAsync(cancellationToken);
                return (replica.ResourceId, body.Contains(nameof(HealthStatus.Degraded), StringComparison.Ordinal) ? HealthStatus.Degraded : HealthStatus.Unhealthy);
            }
            catch (HttpRequestException)
            {
                return (replica.ResourceId, HealthStatus.Unhealthy);
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return (replica.ResourceId, HealthStatus.Unhealthy);
            }
        }
    }
}
