using CouponAspire.AppHost;
using CouponAspire.AppHost.Infrastructure;
using CouponAspire.LocalInfrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace CouponAspire.Tests.AppHost;

/// <summary>
/// The AppHost's resources and their wiring, read from its application model without running it: in publish mode (what
/// azd deploys) and in run mode with each kind of infrastructure. Values known only at run time (connection strings,
/// endpoints, parameters) appear as manifest expressions such as <c>{kafka.connectionString}</c>.
/// </summary>
public sealed class AppHostModelTests
{
    [Fact(Timeout = Timeouts.System)]
    public async Task A_deployment_has_the_services_postgres_a_kafka_connection_string_and_the_signing_key()
    {
        await using var app = await BuildAsync(Publish);
        var resources = Resources(app);

        string[] deployed = ["kafka", "postgres", "coupondb", "token-signing-key", "request-id-key", "migrations", "api", "consumer"];
        resources.Where(r => !r.IsExcludedFromPublish()).Select(r => r.Name).ShouldBe(deployed, ignoreOrder: true);
        Resource(app, "kafka").ShouldBeAssignableTo<ParameterResource>().ShouldBeAssignableTo<IResourceWithConnectionString>();
        var database = Resource(app, "coupondb").ShouldBeOfType<PostgresDatabaseResource>();
        database.DatabaseName.ShouldBe("coupondb");
        database.Parent.Name.ShouldBe("postgres");
        Resource(app, "loadgen").IsExcludedFromPublish().ShouldBeTrue();
    }

    [Fact(Timeout = Timeouts.System)]
    public async Task A_deployment_may_run_kafka_as_a_container_instead()
    {
        await using var app = await BuildAsync([.. Publish, "--PublishKafka=Container"]);

        Resource(app, "kafka").ShouldBeOfType<KafkaServerResource>().IsExcludedFromPublish().ShouldBeFalse();
        Resource(app, "kafka-ui").IsExcludedFromPublish().ShouldBeTrue();
    }

    [Theory(Timeout = Timeouts.System)]
    [InlineData("api")]
    [InlineData("consumer")]
    public async Task A_service_gets_the_kafka_and_database_connection_strings_and_waits_until_both_are_healthy_and_the_schema_migrated(string service)
    {
        await using var app = await BuildAsync(Publish);
        var resource = Resource(app, service);
        var environment = await EnvironmentOfAsync(app, resource);

        environment["ConnectionStrings__kafka"].ShouldBe("{kafka.connectionString}");
        environment["ConnectionStrings__coupondb"].ShouldBe("{coupondb.connectionString}");
        string[] dependencies = ["kafka", "coupondb"];
        dependencies.ShouldBeSubsetOf(References(resource));
        dependencies.ShouldBeSubsetOf(resource.Annotations.OfType<WaitAnnotation>()
            .Where(wait => wait.WaitType == WaitType.WaitUntilHealthy)
            .Select(wait => wait.Resource.Name));
        resource.Annotations.OfType<WaitAnnotation>().ShouldContain(wait => wait.Resource.Name == "migrations" && wait.WaitType == WaitType.WaitForCompletion);
        resource.Annotations.OfType<HealthCheckAnnotation>().ShouldContain(check => check.Key.Contains("/health"));
    }

    [Fact(Timeout = Timeouts.System)]
    public async Task The_migration_worker_migrates_the_database_once_it_is_healthy()
    {
        await using var app = await BuildAsync(Publish);
        var migrations = Resource(app, "migrations");
        var environment = await EnvironmentOfAsync(app, migrations);

        environment["ConnectionStrings__coupondb"].ShouldBe("{coupondb.connectionString}");
        environment.ShouldNotContainKey("ConnectionStrings__kafka");
        migrations.Annotations.OfType<WaitAnnotation>().ShouldContain(wait => wait.Resource.Name == "coupondb" && wait.WaitType == WaitType.WaitUntilHealthy);
    }

    [Fact(Timeout = Timeouts.System)]
    public async Task Only_the_api_is_reachable_from_outside()
    {
        await using var app = await BuildAsync(Publish);

        var apiHttp = Resource(app, "api").Annotations.OfType<EndpointAnnotation>().Where(e => e.UriScheme == "http").ToArray();
        apiHttp.ShouldNotBeEmpty();
        apiHttp.ShouldAllBe(endpoint => endpoint.IsExternal);
        Resource(app, "consumer").Annotations.OfType<EndpointAnnotation>().ShouldAllBe(endpoint => !endpoint.IsExternal);
    }

    [Fact(Timeout = Timeouts.System)]
    public async Task By_default_three_consumers_share_twelve_partitions_with_the_batched_strategy()
    {
        await using var app = await BuildAsync(Publish);
        var consumer = Resource(app, "consumer");
        var consumerEnvironment = await EnvironmentOfAsync(app, consumer);
        var apiEnvironment = await EnvironmentOfAsync(app, Resource(app, "api"));

        consumer.Annotations.OfType<ReplicaAnnotation>().Single().Replicas.ShouldBe(3);
        (Resource(app, "api").Annotations.OfType<ReplicaAnnotation>().SingleOrDefault()?.Replicas ?? 1).ShouldBe(1, "one API process on a machine of two cores");
        consumerEnvironment["CouponEvents__Partitions"].ShouldBe("12");
        apiEnvironment["CouponEvents__Partitions"].ShouldBe("12");
        consumerEnvironment["Issuance__Strategy"].ShouldBe("Batched");
        consumerEnvironment["Aspire__Confluent__Kafka__Consumer__Config__SessionTimeoutMs"].ShouldBe("10000");
    }

    [Fact(Timeout = Timeouts.System)]
    public async Task Replicas_partitions_and_strategy_come_from_the_apphost_configuration()
    {
        await using var app = await BuildAsync([.. Publish, "--ConsumerReplicas=5", "--Partitions=24", "--IssuanceStrategy=PerMessage", "--ApiReplicas=2"]);
        var consumer = Resource(app, "consumer");
        var consumerEnvironment = await EnvironmentOfAsync(app, consumer);
        var apiEnvironment = await EnvironmentOfAsync(app, Resource(app, "api"));

        consumer.Annotations.OfType<ReplicaAnnotation>().Single().Replicas.ShouldBe(5);
        Resource(app, "api").Annotations.OfType<ReplicaAnnotation>().Single().Replicas.ShouldBe(2);
        consumerEnvironment["CouponEvents__Partitions"].ShouldBe("24");
        apiEnvironment["CouponEvents__Partitions"].ShouldBe("24");
        consumerEnvironment["Issuance__Strategy"].ShouldBe("PerMessage");
    }

    [Theory(Timeout = Timeouts.System)]
    [InlineData("api")]
    [InlineData("loadgen")]
    public async Task The_api_and_the_load_generator_share_the_token_settings_without_the_key_itself(string project)
    {
        await using var app = await BuildAsync(Publish);
        var environment = await EnvironmentOfAsync(app, Resource(app, project));

        environment["Authentication__Schemes__Bearer__ValidIssuer"].ShouldBe(DevelopmentTokens.DefaultIssuer);
        environment["Authentication__Schemes__Bearer__ValidAudiences__0"].ShouldBe(DevelopmentTokens.DefaultAudience);
        environment["Authentication__Schemes__Bearer__SigningKeys__0__Issuer"].ShouldBe(DevelopmentTokens.DefaultIssuer);
        environment["Authentication__Schemes__Bearer__SigningKeys__0__Value"].ShouldBe("{token-signing-key.value}");
    }

    [Fact(Timeout = Timeouts.System)]
    public async Task The_api_signs_request_ids_with_a_key_of_the_deployment()
    {
        await using var app = await BuildAsync(Publish);
        var environment = await EnvironmentOfAsync(app, Resource(app, "api"));

        environment["CouponApi__RequestIds__Key"].ShouldBe("{request-id-key.value}");
    }

    [Theory(Timeout = Timeouts.System)]
    [InlineData("token-signing-key")]
    [InlineData("request-id-key")]
    public async Task The_keys_are_secrets_whose_generated_values_are_base64_of_at_least_32_bytes(string name)
    {
        await using var app = await BuildAsync(Publish);
        var key = Resource(app, name).ShouldBeOfType<ParameterResource>();

        key.Secret.ShouldBeTrue();
        var generator = key.Default.ShouldNotBeNull();
        for (var i = 0; i < 20; i++)
        {
            var value = generator.GetDefaultValue();
            Convert.FromBase64String(value).Length.ShouldBeGreaterThanOrEqualTo(32, value);
            Should.NotThrow(() => new DevelopmentTokens(value).ForAdmin());
        }
    }

    [Fact(Timeout = Timeouts.System)]
    public async Task The_load_generator_is_started_by_hand_and_finds_the_api_by_service_discovery_and_kafka_by_its_reference()
    {
        await using var app = await BuildAsync(Publish);
        var loadgen = Resource(app, "loadgen");
        var environment = await EnvironmentOfAsync(app, loadgen);

        loadgen.Annotations.OfType<ExplicitStartupAnnotation>().ShouldHaveSingleItem();
        environment["services__api__http__0"].ShouldBe("{api.bindings.http.url}");
        environment["ConnectionStrings__kafka"].ShouldBe("{kafka.connectionString}");
        loadgen.Annotations.OfType<WaitAnnotation>().Select(wait => wait.Resource.Name).ShouldBe(["api", "consumer"], ignoreOrder: true, "it starts once every consumer replica is ready");
    }

    [Fact(Timeout = Timeouts.System)]
    public async Task Without_containers_postgres_runs_from_the_machine_and_kafka_is_the_mock_cluster_in_a_process_of_its_own()
    {
        await using var app = await BuildAsync("--Infrastructure=Local");
        var consumerEnvironment = await EnvironmentOfAsync(app, Resource(app, "consumer"));

        var postgres = Resource(app, "postgres").ShouldBeOfType<LocalPostgresServerResource>();
        postgres.Annotations.OfType<EndpointAnnotation>().ShouldHaveSingleItem().Name.ShouldBe("tcp");
        var arguments = await ArgumentsOfAsync(postgres);
        arguments.ShouldContain(Path.Combine(PostgresInstallation.Find().BinDirectory, "postgres"));
        arguments.ShouldContain($"unix_socket_directories={postgres.DataDirectory}");
        arguments.ShouldNotContain("fsync=off", "what is measured through it runs as durably as in production");
        Resource(app, "coupondb").ShouldBeOfType<LocalPostgresDatabaseResource>().Parent.ShouldBe(postgres);
        Resource(app, "kafka").ShouldBeOfType<LocalKafkaResource>();
        var mock = Resource(app, "kafka-mock").ShouldBeOfType<ProjectResource>();
        mock.Annotations.OfType<ResourceRelationshipAnnotation>().ShouldContain(r => r.Type == "Parent" && r.Resource.Name == "kafka");
        Resources(app).OfType<ContainerResource>().ShouldBeEmpty("a machine without a container runtime could never start them");

        // The mock holds a rebalance for up to a session timeout, and its fetches always wait fetch.wait.max.ms.
        consumerEnvironment["Aspire__Confluent__Kafka__Consumer__Config__SessionTimeoutMs"].ShouldBe("6000");
        consumerEnvironment["Aspire__Confluent__Kafka__Consumer__Config__FetchWaitMaxMs"].ShouldBe("10");
    }

    [Fact(Timeout = Timeouts.System)]
    public async Task Without_containers_every_process_gets_the_small_machines_runtime_settings_and_the_serving_ones_compile_before_the_sale()
    {
        await using var local = await BuildAsync("--Infrastructure=Local");
        await using var deployed = await BuildAsync(Publish);

        foreach (var service in new[] { "api", "consumer" })
        {
            var environment = await EnvironmentOfAsync(local, Resource(local, service));
            environment.ShouldContainKeyAndValue("DOTNET_TC_QuickJit", "0");
            environment.ShouldContainKeyAndValue("DOTNET_ReadyToRun", "0", $"{service} serves the sale");
        }

        var migrations = await EnvironmentOfAsync(local, Resource(local, "migrations"));
        migrations.ShouldContainKeyAndValue("DOTNET_TC_QuickJit", "0");
        migrations.ShouldNotContainKey("DOTNET_ReadyToRun", "a worker that exits before the sale starts faster precompiled");
        var api = await EnvironmentOfAsync(deployed, Resource(deployed, "api"));
        api.Keys.ShouldNotContain(key => key.StartsWith("DOTNET_", StringComparison.Ordinal), "a deployment keeps the runtime's defaults");
    }

    [Fact(Timeout = Timeouts.System)]
    public async Task With_containers_kafka_runs_as_aspire_hosting_kafka_runs_it_with_kafka_ui_and_postgres_with_pgweb()
    {
        await using var app = await BuildAsync("--Infrastructure=Containers");
        var kafka = Resource(app, "kafka").ShouldBeOfType<KafkaServerResource>();
        var environment = await EnvironmentOfAsync(app, kafka);

        kafka.Annotations.OfType<ContainerImageAnnotation>().ShouldHaveSingleItem()
            .ShouldSatisfyAllConditions(
                image => image.Registry.ShouldBe("docker.io"),
                image => image.Image.ShouldBe("confluentinc/confluent-local"),
                image => image.Tag.ShouldBe("8.2.0"));
        kafka.Annotations.OfType<EndpointAnnotation>().Select(e => (e.Name, e.TargetPort)).ShouldBe([("tcp", 9092), ("internal", 9093)], ignoreOrder: true);
        environment["KAFKA_LISTENERS"].ShouldContain("PLAINTEXT_INTERNAL://0.0.0.0:9093");
        environment.ShouldContainKey("KAFKA_ADVERTISED_LISTENERS");
        Resource(app, "kafka-ui").ShouldBeOfType<ContainerResource>();
        Resource(app, "postgres").ShouldBeOfType<PostgresServerResource>();
        Resources(app).ShouldContain(r => r.Name.StartsWith("postgres-pgweb", StringComparison.Ordinal) || r.Name == "pgweb");
    }

    private static readonly string[] Publish = ["--publisher", "manifest"];

    /// <summary>Builds the AppHost's model, as its entry point does, without running it.</summary>
    private static async Task<DistributedApplication> BuildAsync(params string[] args)
    {
        var builder = DistributedApplication.CreateBuilder(new DistributedApplicationOptions { Args = args, DisableDashboard = true });
        builder.AddCouponAspire();
        return await Task.FromResult(builder.Build());
    }

    private static IResource[] Resources(DistributedApplication app) =>
        [.. app.Services.GetRequiredService<DistributedApplicationModel>().Resources];

    private static IResource Resource(DistributedApplication app, string name) => Resources(app).Single(r => r.Name == name);

    /// <summary>The resources this one references (what the dashboard draws as its references).</summary>
    private static IEnumerable<string> References(IResource resource) =>
        resource.Annotations.OfType<ResourceRelationshipAnnotation>()
            .Where(relationship => relationship.Type == "Reference")
            .Select(relationship => relationship.Resource.Name);

    private static async Task<string[]> ArgumentsOfAsync(IResource resource)
    {
        var configuration = await ExecutionConfigurationBuilder.Create(resource)
            .WithArgumentsConfig()
            .BuildAsync(ManifestExpressions, NullLogger.Instance, TestContext.Current.CancellationToken);
        return [.. configuration.Arguments.Select(a => a.Value)];
    }

    /// <summary>
    /// The environment the resource would be given, as the manifest publisher resolves it (as expressions: in run mode a
    /// value such as an allocated port or the mock cluster's bootstrap servers would be awaited until the app runs).
    /// </summary>
    private static async Task<Dictionary<string, string>> EnvironmentOfAsync(DistributedApplication app, IResource resource)
    {
        var configuration = await ExecutionConfigurationBuilder.Create(resource)
            .WithEnvironmentVariablesConfig()
            .BuildAsync(ManifestExpressions, NullLogger.Instance, TestContext.Current.CancellationToken);
        return configuration.EnvironmentVariables.ToDictionary();
    }

    private static readonly DistributedApplicationExecutionContext ManifestExpressions = new(DistributedApplicationOperation.Publish);
}
