using System.Net.Http.Headers;
using CouponAspire.Api.Coupons;
using CouponAspire.Api.Policies;
using CouponAspire.Api.Requests;
using CouponAspire.LocalInfrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace CouponAspire.Tests.AppHost;

/// <summary>
/// The whole system as <c>dotnet run --project CouponAspire.AppHost</c> runs it on a machine without a container
/// runtime: PostgreSQL from the machine's binaries, librdkafka's mock cluster in a process of its own, the API, three
/// consumer replicas and the dashboard, each a process started by Aspire's orchestrator. Started once for all the tests
/// of <see cref="RunningAppHostCollection"/>; each test sells policies of its own.
/// </summary>
public class RunningAppHost : IAsyncLifetime
{
    public const int ConsumerReplicas = 3;
    public const int Partitions = 12;

    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(5);

    private readonly string _credentialsFolder = Directory.CreateTempSubdirectory("couponaspire-credentials-").FullName;

    public DistributedApplication App { get; private set; } = null!;

    /// <summary>Mints tokens the API trusts: the AppHost was given this signing key.</summary>
    public DevelopmentTokens Tokens { get; } = new(DevelopmentTokens.NewSigningKey());

    /// <summary>A client of the API with the administrator's token the AppHost wrote to its credentials folder.</summary>
    public HttpClient Api { get; private set; } = null!;

    public TestDatabase Database { get; private set; } = null!;
    public string KafkaBootstrapServers { get; private set; } = "";
    public string CredentialsFolder => _credentialsFolder;
    public ResourceNotificationService Notifications => App.ResourceNotifications;

    /// <summary>How many API processes the AppHost runs (its <c>ApiReplicas</c> setting).</summary>
    public virtual int ApiInstances => 1;

    public async ValueTask InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(StartTimeout);
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.CouponAspire_AppHost>(
            new DistributedApplicationTestingBuilderOptions { EnableDashboard = true },
            [
                "--Infrastructure=Local",
                $"--ConsumerReplicas={ConsumerReplicas}",
                $"--Partitions={Partitions}",
                // The API on a free port, not the one a developer's AppHost may be using.
                "--ApiPort=0",
                $"--ApiReplicas={ApiInstances}",
                $"--Parameters:token-signing-key={Tokens.SigningKey}",
                $"--CredentialsFolder={_credentialsFolder}",
            ],
            timeout.Token);
        // The resources' own output goes to the dashboard; what reaches the test's output is the AppHost's news and trouble.
        builder.Services.AddLogging(logging => logging
            .SetMinimumLevel(LogLevel.Warning)
            .AddFilter("CouponAspire.AppHost", LogLevel.Information)
            .AddFilter("CouponAspire.AppHost.Resources", LogLevel.Warning));
        App = await builder.BuildAsync(timeout.Token);
        await App.StartAsync(timeout.Token);

        foreach (var resource in new[] { "postgres", "coupondb", "kafka-mock", "kafka" })
        {
            await Notifications.WaitForResourceHealthyAsync(resource, timeout.Token);
        }

        await WaitForHealthyReplicasAsync("api", ApiInstances, timeout.Token);
        await WaitForHealthyReplicasAsync("consumer", ConsumerReplicas, timeout.Token);
        await WaitForTheGroupAsync(timeout.Token);

        // The AppHost writes the administrator's token last, once the API and every replica are healthy.
        var adminToken = await WaitForFileAsync(Path.Combine(_credentialsFolder, DevelopmentCredentials.AdminTokenFile), timeout.Token);
        // A plain client: the application's own clients retry (the standard resilience handler), and a retried POST
        // would be a second request.
        Api = new HttpClient { BaseAddress = App.GetEndpoint("api", "http") };
        Api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminToken);
        Database = new TestDatabase((await App.GetConnectionStringAsync("coupondb", timeout.Token))!, () => Task.CompletedTask);
        KafkaBootstrapServers = (await App.GetConnectionStringAsync("kafka", timeout.Token))!;
    }

    public async Task<long> CreatePolicyAsync(int totalQuantity, string name = "AppHost flash sale")
    {
        using var response = await Api.PostAsJsonAsync("/api/coupon-policies", new { name, totalQuantity }, TestContext.Current.CancellationToken);
        response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        return (await response.Content.ReadFromJsonAsync<PolicyResponse>(TestContext.Current.CancellationToken))!.Id;
    }

    /// <summary>Asks for a coupon for a user, as the administrator acting for them (no per-user rate limit).</summary>
    public async Task<(HttpStatusCode Status, string? RequestId)> TryRequestAsync(long policyId, long userId)
    {
        using var response = await Api.PostAsJsonAsync($"/api/coupon-policies/{policyId}/requests", new { userId });
        return response.StatusCode == HttpStatusCode.Accepted
            ? (response.StatusCode, (await response.Content.ReadFromJsonAsync<CouponRequestAccepted>())!.RequestId)
            : (response.StatusCode, null);
    }

    /// <summary>The id the orchestrator gave a resource of one instance (the name, or the name and a suffix).</summary>
    public async Task<string> ResourceIdAsync(string name, CancellationToken cancellationToken)
    {
        await foreach (var update in Watch(cancellationToken))
        {
            if (update.Resource.Name == name)
            {
                return update.ResourceId;
            }
        }

        throw new InvalidOperationException($"No resource {name}.");
    }

    /// <summary>The ids of the consumer's replicas, as the dashboard lists them (<c>consumer-xxxxxxxx</c>).</summary>
    public Task<IReadOnlyList<string>> ConsumerReplicaIdsAsync(CancellationToken cancellationToken) =>
        ReplicaIdsAsync("consumer", ConsumerReplicas, cancellationToken);

    /// <summary>The ids of a replicated resource's <paramref name="count"/> replicas (<c>name-xxxxxxxx</c>), in order.</summary>
    public async Task<IReadOnlyList<string>> ReplicaIdsAsync(string name, int count, CancellationToken cancellationToken)
    {
        var ids = new HashSet<string>();
        await foreach (var update in Watch(cancellationToken))
        {
            if (update.Resource.Name == name && ids.Add(update.ResourceId) && ids.Count == count)
            {
                break;
            }
        }

        return [.. ids.Order(StringComparer.Ordinal)];
    }

    /// <summary>Where one replica of a project listens itself (its <c>ASPNETCORE_URLS</c>), not through the proxy.</summary>
    public async Task<Uri> OwnAddressAsync(string resourceId, CancellationToken cancellationToken)
    {
        await foreach (var update in Watch(cancellationToken))
        {
            if (update.ResourceId == resourceId
                && update.Snapshot.EnvironmentVariables.FirstOrDefault(v => v.Name == "ASPNETCORE_URLS")?.Value is { Length: > 0 } urls)
            {
                return new Uri(urls.Split(';').First(u => u.StartsWith("http://", StringComparison.OrdinalIgnoreCase)));
            }
        }

        throw new InvalidOperationException($"No address for {resourceId}.");
    }

    /// <summary>
    /// Waits until the replicas share every partition between them, each holding some: the group has formed (the mock
    /// cluster may take a few rebalances when the replicas start one after another).
    /// </summary>
    public async Task WaitForTheGroupAsync(CancellationToken cancellationToken)
    {
        var replicas = await ConsumerReplicaIdsAsync(cancellationToken);
        List<HashSet<int>> assignments = [];
        await Eventually.UntilAsync(
            async () =>
            {
                assignments = [];
                foreach (var replica in replicas)
                {
                    assignments.Add(ConsumerAssignment.Replay(await LogsOfAsync(replica)));
                }

                return ConsumerAssignment.Shared(assignments, Partitions);
            },
            "the consumer group to form",
            StartTimeout,
            () => Task.FromResult($"Partitions held: {string.Join(" | ", assignments.Select(a => string.Join(',', a.Order())))}"));
    }

    /// <summary>Waits until <paramref name="count"/> replicas of a resource are running and healthy at the same time.</summary>
    public async Task WaitForHealthyReplicasAsync(string name, int count, CancellationToken cancellationToken)
    {
        var healthy = new HashSet<string>();
        await foreach (var update in Watch(cancellationToken))
        {
            if (update.Resource.Name != name)
            {
                continue;
            }

            if (IsRunningAndHealthy(update.Snapshot))
            {
                healthy.Add(update.ResourceId);
            }
            else
            {
                healthy.Remove(update.ResourceId);
            }

            if (healthy.Count >= count)
            {
                return;
            }
        }
    }

    /// <summary>Waits until the snapshot of one resource (or replica) satisfies <paramref name="condition"/>.</summary>
    public async Task WaitForReplicaAsync(string resourceId, Func<CustomResourceSnapshot, bool> condition, TimeSpan timeout)
    {
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cancellation.CancelAfter(timeout);
        CustomResourceSnapshot? last = null;
        try
        {
            await foreach (var update in Watch(cancellation.Token))
            {
                if (update.ResourceId == resourceId && condition(last = update.Snapshot))
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"{resourceId} did not get there within {timeout}; last state {last?.State?.Text}, health {last?.HealthStatus}.");
        }
    }

    /// <summary>Every line a resource (or replica) wrote to its console, so far.</summary>
    public async Task<List<string>> LogsOfAsync(string resourceId)
    {
        var lines = new List<string>();
        await foreach (var batch in App.Services.GetRequiredService<ResourceLoggerService>().GetAllAsync(resourceId))
        {
            lines.AddRange(batch.Select(line => line.Content));
        }

        return lines;
    }

    public static bool IsRunningAndHealthy(CustomResourceSnapshot snapshot) =>
        snapshot.State?.Text == KnownResourceStates.Running && snapshot.HealthStatus == HealthStatus.Healthy;

    public IAsyncEnumerable<ResourceEvent> Watch(CancellationToken cancellationToken) => Notifications.WatchAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        Api?.Dispose();
        if (Database is not null)
        {
            await Database.DataSource.DisposeAsync();
        }

        if (App is not null)
        {
            await App.StopAsync().WaitAsync(TimeSpan.FromMinutes(1));
            await App.DisposeAsync();
        }

        Directory.Delete(_credentialsFolder, recursive: true);
    }

    private static async Task<string> WaitForFileAsync(string path, CancellationToken cancellationToken)
    {
        await Eventually.UntilAsync(() => File.Exists(path), $"the AppHost to write {path}", StartTimeout);
        return (await File.ReadAllTextAsync(path, cancellationToken)).Trim();
    }
}

/// <summary>The tests that share one running AppHost; they run one after another, and after the other tests.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RunningAppHostCollection : ICollectionFixture<RunningAppHost>
{
    public const string Name = "Running AppHost";
}

/// <summary>The system as the AppHost runs it with two API processes behind the orchestrator's proxy (<c>--ApiReplicas=2</c>).</summary>
public sealed class ScaledOutAppHost : RunningAppHost
{
    public override int ApiInstances => 2;
}

/// <summary>The tests that share one AppHost running two API processes; one after another, after the other tests.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ScaledOutAppHostCollection : ICollectionFixture<ScaledOutAppHost>
{
    public const string Name = "AppHost with two API instances";
}
