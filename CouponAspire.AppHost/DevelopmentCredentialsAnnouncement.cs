using CouponAspire.AppHost.Infrastructure;
using CouponAspire.LocalInfrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CouponAspire.AppHost;

internal static class DevelopmentCredentialsAnnouncement
{
    /// <summary>Where the credentials go: <c>.couponaspire/</c> at the repository root unless set.</summary>
    public const string FolderSetting = "CredentialsFolder";

    /// <summary>
    /// Once the API and every consumer replica are healthy: writes the API's address, Kafka's bootstrap servers, the
    /// signing key and an administrator's token to <c>.couponaspire/</c> (the token last), and prints how to call the API.
    /// </summary>
    public static void AddDevelopmentCredentials(
        this IDistributedApplicationBuilder builder,
        IResourceBuilder<ProjectResource> api,
        IResourceBuilder<ProjectResource> consumer,
        CouponInfrastructure infrastructure,
        IResourceBuilder<ParameterResource> signingKey)
    {
        if (builder.ExecutionContext.IsPublishMode)
        {
            return;
        }

        var folder = builder.Configuration[FolderSetting] is { Length: > 0 } configured
            ? Path.GetFullPath(configured)
            : Path.GetFullPath(Path.Combine(builder.AppHostDirectory, "..", DevelopmentCredentials.FolderName));
        // Ready fires for each instance of the API, and again after a restart: one announcement at a time.
        var announcing = 0;
        builder.Eventing.Subscribe<ResourceReadyEvent>(api.Resource, (@event, cancellationToken) =>
        {
            if (Interlocked.Exchange(ref announcing, 1) == 0)
            {
                var services = @event.Services;
                _ = Task.Run(
                    async () =>
                    {
                        try
                        {
                            await AnnounceAsync(services, api.Resource, consumer.Resource, infrastructure, signingKey.Resource, folder, cancellationToken);
                        }
                        finally
                        {
                            Volatile.Write(ref announcing, 0);
                        }
                    },
                    cancellationToken);
            }

            return Task.CompletedTask;
        });
    }

    private static async Task AnnounceAsync(
        IServiceProvider services,
        ProjectResource api,
        ProjectResource consumer,
        CouponInfrastructure infrastructure,
        ParameterResource signingKey,
        string folder,
        CancellationToken cancellationToken)
    {
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("CouponAspire.AppHost");
        try
        {
            var notifications = services.GetRequiredService<ResourceNotificationService>();
            var apiInstances = Replicas(api);
            var replicas = Replicas(consumer);
            await notifications.WaitForReplicasHealthyAsync(api, apiInstances, cancellationToken);
            await notifications.WaitForReplicasHealthyAsync(consumer, replicas, cancellationToken);

            var url = new Uri(api.GetEndpoint("http").Url);
            var key = await signingKey.GetValueAsync(cancellationToken) ?? throw new InvalidOperationException("The token signing key has no value.");
            var tokens = new DevelopmentTokens(key, BearerTokenSettings.Issuer, BearerTokenSettings.Audience);
            var bootstrapServers = await infrastructure.Kafka.Resource.GetConnectionStringAsync(cancellationToken) ?? "";
            var database = await infrastructure.Database.Resource.GetConnectionStringAsync(cancellationToken) ?? "";
            DevelopmentCredentials.Write(folder, url, bootstrapServers, database, key, tokens.ForAdmin(TimeSpan.FromDays(1)));
            var apiUrl = url.ToString().TrimEnd('/');
            logger.LogInformation(
                """
                CouponAspire is ready: the API at {Api} (reference at {Api}/scalar; {ApiInstances} instance(s)) and {Replicas} consumer replica(s).
                An administrator's token (24 h) is in {Folder}/{TokenFile}, with the API's address and signing key beside it:
                  TOKEN=$(cat {Folder}/{TokenFile})
                  curl -s -X POST {Api}/api/coupon-policies -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{{"name":"Launch","totalQuantity":100}}'
                A flash sale: start the loadgen resource in the dashboard.
                """,
                apiUrl,
                apiUrl,
                apiInstances,
                replicas,
                folder,
                DevelopmentCredentials.AdminTokenFile,
                folder,
                DevelopmentCredentials.AdminTokenFile,
                apiUrl);
        }
        catch (OperationCanceledException)
        {
            // Stopped before it was ready.
        }
    }

    private static int Replicas(IResource resource) => resource.TryGetLastAnnotation<ReplicaAnnotation>(out var annotation) ? annotation.Replicas : 1;

    /// <summary>Waits until <paramref name="replicas"/> instances of <paramref name="resource"/> are running and healthy at once.</summary>
    public static async Task WaitForReplicasHealthyAsync(this ResourceNotificationService notifications, IResource resource, int replicas, CancellationToken cancellationToken)
    {
        var healthy = new HashSet<string>();
        await foreach (var update in notifications.WatchAsync(cancellationToken))
        {
            if (update.Resource != resource)
            {
                continue;
            }

            if (update.Snapshot.State?.Text == KnownResourceStates.Running && update.Snapshot.HealthStatus == Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy)
            {
                healthy.Add(update.ResourceId);
            }
            else
            {
                healthy.Remove(update.ResourceId);
            }

            if (healthy.Count >= replicas)
            {
                return;
            }
        }
    }
}
