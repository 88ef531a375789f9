using CouponAspire.LocalInfrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace CouponAspire.AppHost.Tests;

/// <summary>
/// The AppHost's resources and their wiring, read from its application model built in publish mode: nothing is
/// started, so neither Docker nor the orchestrator is needed. Values that are only known at run time (connection
/// strings, endpoints, parameters) appear as manifest expressions such as <c>{kafka.connectionString}</c>.
/// </summary>
public sealed class AppHostModelTests
{
    [Fact]
    public async Task The_model_has_kafka_postgres_the_services_their_admin_tools_and_the_signing_key()
    {
        await using var app = await BuildModelAsync();
        var resources = Resources(app);

        string[] expected = ["kafka", "kafka-ui", "postgres", "pgweb", "coupondb", "token-signing-key", "api", "consumer", "loadgen"];
        expected.ShouldBeSubsetOf(resources.Select(r => r.Name));
        resources.Single(r => r.Name == "kafka").ShouldBeOfType<KafkaServerResource>();
        var database = resources.Single(r => r.Name == "coupondb").ShouldBeOfType<PostgresDatabaseResource>();
        database.DatabaseName.ShouldBe("coupondb");
        database.Parent.Name.ShouldBe("postgres");
    }

    [Theory]
    [InlineData("api")]
    [InlineData("consumer")]
    public async Task A_service_gets_the_kafka_and_database_connection_strings_and_waits_for_both(string service)
    {
        await using var app = await BuildModelAsync();
        var resource = Resource(app, service);
        var environment = await EnvironmentOfAsync(app, resource);

        environment["ConnectionStrings__kafka"].ShouldBe("{kafka.connectionString}");
        environment["ConnectionStrings__coupondb"].ShouldBe("{coupondb.connectionString}");
        string[] dependencies = ["kafka", "coupondb"];
        dependencies.ShouldBeSubsetOf(References(resource));
        dependencies.ShouldBeSubsetOf(resource.Annotations.OfType<WaitAnnotation>()
            .Where(wait => wait.WaitType == WaitType.WaitUntilHealthy)
            .Select(wait => wait.Resource.Name));
    }

    [Theory]
    [InlineData("api")]
    [InlineData("consumer")]
    public async Task A_service_is_health_checked_on_its_health_endpoint(string service)
    {
        await using var app = await BuildModelAsync();

        Resource(app, service).Annotations.OfType<HealthCheckAnnotation>()
            .ShouldContain(check => check.Key.Contains("/health"));
    }

    [Fact]
    public async Task Only_the_api_is_reachable_from_outside()
    {
        await using var app = await BuildModelAsync();

        var apiHttp = Resource(app, "api").Annotations.OfType<EndpointAnnotation>().Where(e => e.UriScheme == "http").ToArray();
        apiHttp.ShouldNotBeEmpty();
        apiHttp.ShouldAllBe(endpoint => endpoint.IsExternal);
        Resource(app, "consumer").Annotations.OfType<EndpointAnnotation>().ShouldAllBe(endpoint => !endpoint.IsExternal);
    }

    [Fact]
    public async Task By_default_three_consumers_share_twelve_partitions_with_the_batched_strategy()
    {
        await using var app = await BuildModelAsync();
        var consumer = Resource(app, "consumer");
        var consumerEnvironment = await EnvironmentOfAsync(app, consumer);
        var apiEnvironment = await EnvironmentOfAsync(app, Resource(app, "api"));

        consumer.Annotations.OfType<ReplicaAnnotation>().Single().Replicas.ShouldBe(3);
        consumerEnvironment["CouponEvents__Partitions"].ShouldBe("12");
        apiEnvironment["CouponEvents__Partitions"].ShouldBe("12");
        consumerEnvironment["Issuance__Strategy"].ShouldBe("Batched");
        consumerEnvironment["Aspire__Confluent__Kafka__Consumer__Config__SessionTimeoutMs"].ShouldBe("10000");
    }

    [Fact]
    public async Task Replicas_partitions_and_strategy_come_from_the_apphost_configuration()
    {
        await using var app = await BuildModelAsync("--ConsumerReplicas=5", "--Partitions=24", "--IssuanceStrategy=PerMessage");
        var consumer = Resource(app, "consumer");
        var consumerEnvironment = await EnvironmentOfAsync(app, consumer);
        var apiEnvironment = await EnvironmentOfAsync(app, Resource(app, "api"));

        consumer.Annotations.OfType<ReplicaAnnotation>().Single().Replicas.ShouldBe(5);
        consumerEnvironment["CouponEvents__Partitions"].ShouldBe("24");
        apiEnvironment["CouponEvents__Partitions"].ShouldBe("24");
        consumerEnvironment["Issuance__Strategy"].ShouldBe("PerMessage");
    }

    [Theory]
    [InlineData("api")]
    [InlineData("loadgen")]
    public async Task The_api_and_the_load_generator_share_the_token_settings_without_the_key_itself(string project)
    {
        await using var app = await BuildModelAsync();
        var environment = await EnvironmentOfAsync(app, Resource(app, project));

        environment["Authentication__Schemes__Bearer__ValidIssuer"].ShouldBe(DevelopmentTokens.DefaultIssuer);
        environment["Authentication__Schemes__Bearer__ValidAudiences__0"].ShouldBe(DevelopmentTokens.DefaultAudience);
        environment["Authentication__Schemes__Bearer__SigningKeys__0__Issuer"].ShouldBe(DevelopmentTokens.DefaultIssuer);
        environment["Authentication__Schemes__Bearer__SigningKeys__0__Value"].ShouldBe("{token-signing-key.value}");
    }

    [Fact]
    public async Task The_signing_key_is_a_secret_whose_generated_value_is_base64_of_at_least_32_bytes()
    {
        await using var app = await BuildModelAsync();
        var key = Resource(app, "token-signing-key").ShouldBeOfType<ParameterResource>();

        key.Secret.ShouldBeTrue();
        var generator = key.Default.ShouldNotBeNull();
        for (var i = 0; i < 20; i++)
        {
            var value = generator.GetDefaultValue();
            Convert.FromBase64String(value).Length.ShouldBeGreaterThanOrEqualTo(32, value);
            Should.NotThrow(() => new DevelopmentTokens(value).ForAdmin());
        }
    }

    [Fact]
    public async Task The_load_generator_is_started_by_hand_and_finds_the_api_by_service_discovery()
    {
        await using var app = await BuildModelAsync();
        var loadgen = Resource(app, "loadgen");
        var environment = await EnvironmentOfAsync(app, loadgen);

        loadgen.Annotations.OfType<ExplicitStartupAnnotation>().ShouldHaveSingleItem();
        environment["services__api__http__0"].ShouldBe("{api.bindings.http.url}");
        loadgen.Annotations.OfType<WaitAnnotation>().ShouldHaveSingleItem().Resource.Name.ShouldBe("api");
    }

    [Fact]
    public async Task Deployment_includes_the_system_but_not_the_admin_tools_or_the_load_generator()
    {
        await using var app = await BuildModelAsync();

        string[] deployed = ["kafka", "postgres", "coupondb", "api", "consumer"];
        string[] notDeployed = ["kafka-ui", "pgweb", "loadgen"];

        deployed.ShouldAllBe(name => !Resource(app, name).IsExcludedFromPublish());
        notDeployed.ShouldAllBe(name => Resource(app, name).IsExcludedFromPublish());
    }

    /// <summary>Builds the AppHost's model without running it (<c>--publisher manifest</c> selects publish mode).</summary>
    private static async Task<DistributedApplication> BuildModelAsync(params string[] settings)
    {
        var appHost = await DistributedApplicationTestingBuilder.CreateAsync<Projects.CouponAspire_AppHost>(
            ["--publisher", "manifest", .. settings], TestContext.Current.CancellationToken);
        return await appHost.BuildAsync(TestContext.Current.CancellationToken);
    }

    private static IResource[] Resources(DistributedApplication app) =>
        [.. app.Services.GetRequiredService<DistributedApplicationModel>().Resources];

    private static IResource Resource(DistributedApplication app, string name) => Resources(app).Single(r => r.Name == name);

    /// <summary>The resources this one references (what the dashboard draws as its references).</summary>
    private static IEnumerable<string> References(IResource resource) =>
        resource.Annotations.OfType<ResourceRelationshipAnnotation>()
            .Where(relationship => relationship.Type == "Reference")
            .Select(relationship => relationship.Resource.Name);

    /// <summary>The environment the resource would be given, as the manifest publisher resolves it.</summary>
    private static async Task<Dictionary<string, string>> EnvironmentOfAsync(DistributedApplication app, IResource resource)
    {
        var executionContext = app.Services.GetRequiredService<DistributedApplicationExecutionContext>();
        var configuration = await ExecutionConfigurationBuilder.Create(resource)
            .WithEnvironmentVariablesConfig()
            .BuildAsync(executionContext, NullLogger.Instance, TestContext.Current.CancellationToken);
        return configuration.EnvironmentVariables.ToDictionary();
    }
}
