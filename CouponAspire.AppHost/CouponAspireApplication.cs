using CouponAspire.AppHost.Infrastructure;
using Microsoft.Extensions.Configuration;

namespace CouponAspire.AppHost;

/// <summary>
/// The whole system: Kafka, PostgreSQL, the API, the consumer replicas and the load generator — what
/// <c>dotnet run --project CouponAspire.AppHost</c> runs and azd deploys. Separate from the entry point so that tests
/// can read the model without running it.
/// </summary>
public static class CouponAspireApplication
{
    public static IDistributedApplicationBuilder AddCouponAspire(this IDistributedApplicationBuilder builder)
    {
        // Demo settings: appsettings.json, the command line (-- --ConsumerReplicas=5) or environment variables.
        var consumerReplicas = builder.Configuration.GetValue("ConsumerReplicas", 3);
        var partitions = builder.Configuration.GetValue("Partitions", 12);
        var issuanceStrategy = builder.Configuration.GetValue("IssuanceStrategy", "Batched");
        var apiReplicas = builder.Configuration.GetValue("ApiReplicas", 1);
        var apiPort = builder.Configuration.GetValue("ApiPort", 5080);
        // Several API processes share the port through the orchestrator's proxy; one is reached directly unless asked.
        var proxyApi = apiReplicas > 1 || builder.Configuration.GetValue("ProxyApi", false);
        var tracesPerSecond = builder.Configuration.GetValue("TracesPerSecond", 10);

        // Kafka and PostgreSQL: containers where a container runtime answers, else local processes (the Infrastructure setting).
        var infrastructure = CouponInfrastructure.Add(builder, partitions);

        // Signs the bearer tokens the API accepts and the load generator mints. Generated on the first run and kept in the
        // AppHost's user secrets; 44 letters and digits are valid base64 (33 bytes, enough for HS256). Secret, so a published
        // manifest says only how to generate it, never a value.
        var tokenSigningKey = builder.AddParameter(
            "token-signing-key",
            new GenerateParameterDefault { MinLength = 44, Special = false },
            secret: true,
            persist: true);

        // Signs the request ids the API hands out, so that an accepted request reads as Pending without any write: the
        // same key for every API instance, kept like the token signing key.
        var requestIdKey = builder.AddParameter(
            "request-id-key",
            new GenerateParameterDefault { MinLength = 44, Special = false },
            secret: true,
            persist: true);

        // Applies the schema's migrations once, then exits; the services start when it has succeeded.
        var migrations = builder.AddProject<Projects.CouponAspire_MigrationService>("migrations")
            .WithReferenceEnvironment(ReferenceEnvironmentInjectionFlags.ConnectionString)
            .WithReference(infrastructure.Database).WaitFor(infrastructure.Database);

        var api = builder.AddProject<Projects.CouponAspire_Api>("api")
            .WithCouponInfrastructure(infrastructure, migrations, partitions, tracesPerSecond)
            .WithBearerTokenSettings(tokenSigningKey)
            .WithEnvironment("CouponApi__RequestIds__Key", requestIdKey)
            .WithExternalHttpEndpoints();
        // Every instance signs and reads request ids with the same key and answers from the same database, so any of them
        // answers for a request another accepted. The per-user rate limit is each instance's own (README).
        if (apiReplicas > 1)
        {
            api.WithReplicas(apiReplicas).WithHttpHealthCheckOfEveryReplica("/health");
        }
        else
        {
            api.WithHttpHealthCheck("/health");
        }

        if (builder.ExecutionContext.IsRunMode)
        {
            // Clients reach one API process directly: the orchestrator's proxy in front of it costs a copy of every request
            // and answer, and a share of the cores a flash sale runs on (`SYSTEMS=apphost benchmarks/compare.sh
            // --ProxyApi=true` measures it). Replicas are reached through the proxy, on ApiPort. ApiPort 0: any free port.
            api.WithEndpoint("http", endpoint =>
            {
                endpoint.IsProxied = proxyApi;
                endpoint.Port = apiPort == 0 ? null : apiPort;
                endpoint.TargetPort = proxyApi ? null : endpoint.Port;
            });
        }

        var consumer = builder.AddProject<Projects.CouponAspire_Consumer>("consumer")
            .WithCouponInfrastructure(infrastructure, migrations, partitions, tracesPerSecond)
            .WithEnvironment("Issuance__Strategy", issuanceStrategy)
            .WithReplicas(consumerReplicas)
            .WithHttpHealthCheckOfEveryReplica("/health");

        // A demo tool, started from the dashboard and never deployed: a stampede of 25 s at full speed on a policy per
        // partition (so that every replica has work), a crowd five times the coupons, some clicking twice; then the
        // verdict, order against the log included. Well within what the mock cluster keeps of a partition (5 MB).
        builder.AddProject<Projects.CouponAspire_LoadGenerator>("loadgen")
            .WithArgs("--duration", "25", "--quantity", "1500", "--requests", "400000", "--users", "320000", "--concurrency", "256")
            .WithReference(api).WaitFor(api)
            .WaitFor(consumer)
            .WithReference(infrastructure.Kafka)
            .WithBearerTokenSettings(tokenSigningKey)
            .WithExplicitStart()
            .ExcludeFromManifest();

        // Once the API and every consumer replica are healthy: where the API is, and an administrator's token to call it with.
        builder.AddDevelopmentCredentials(api, consumer, infrastructure, tokenSigningKey);

        // Every process on one small machine: the runtime settings that suit it, in run mode with local infrastructure only.
        builder.TuneForSmallMachine(infrastructure, api, consumer);

        return builder;
    }
}
