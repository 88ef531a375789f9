namespace CouponAspire.AppHost.Infrastructure;

/// <summary>
/// Kafka as Aspire.Hosting.Kafka's <c>AddKafka</c> runs it (a single KRaft node of <c>confluent-local</c>, with Kafka UI).
/// That package is not used here, so the resource is written on Aspire's public API; where the package is available,
/// <c>builder.AddKafka(name).WithKafkaUI()</c> replaces <see cref="AddKafkaContainer"/> and <see cref="WithKafkaUI"/>.
/// </summary>
public sealed class KafkaServerResource(string name) : ContainerResource(name), IResourceWithConnectionString
{
    /// <summary>The listener for processes on the host.</summary>
    public const string PrimaryEndpointName = "tcp";

    /// <summary>The listener for other containers (Kafka UI).</summary>
    public const string InternalEndpointName = "internal";

    public EndpointReference PrimaryEndpoint => new(this, PrimaryEndpointName);

    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"{PrimaryEndpoint.Property(EndpointProperty.HostAndPort)}");
}

internal static class ContainerInfrastructure
{
    public static IResourceBuilder<KafkaServerResource> AddKafkaContainer(this IDistributedApplicationBuilder builder, string name)
    {
        var kafka = new KafkaServerResource(name);
        return builder.AddResource(kafka)
            .WithImage("confluentinc/confluent-local", "8.2.0")
            .WithImageRegistry("docker.io")
            .WithEndpoint(targetPort: 9092, name: KafkaServerResource.PrimaryEndpointName)
            .WithEndpoint(targetPort: 9093, name: KafkaServerResource.InternalEndpointName)
            .WithEnvironment("KAFKA_LISTENERS", "PLAINTEXT://localhost:29092,CONTROLLER://localhost:29093,PLAINTEXT_HOST://0.0.0.0:9092,PLAINTEXT_INTERNAL://0.0.0.0:9093")
            .WithEnvironment("KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,PLAINTEXT_HOST:PLAINTEXT,PLAINTEXT_INTERNAL:PLAINTEXT")
            .WithEnvironment(context =>
            {
                // Clients on the host are told the host port; containers the container's name.
                var host = kafka.PrimaryEndpoint;
                context.EnvironmentVariables["KAFKA_ADVERTISED_LISTENERS"] = ReferenceExpression.Create(
                    $"PLAINTEXT://localhost:29092,PLAINTEXT_HOST://{host.Property(EndpointProperty.Host)}:{host.Property(EndpointProperty.Port)},PLAINTEXT_INTERNAL://{kafka.Name}:9093");
            })
            .WithKafkaHealthCheck();
    }

    /// <summary>Kafka UI (kafbat) for browsing topics, partitions, consumer groups and messages; never deployed.</summary>
    public static IResourceBuilder<KafkaServerResource> WithKafkaUI(this IResourceBuilder<KafkaServerResource> kafka)
    {
        kafka.ApplicationBuilder.AddContainer($"{kafka.Resource.Name}-ui", "kafbat/kafka-ui", "v1.5.0")
            .WithImageRegistry("docker.io")
            .WithHttpEndpoint(targetPort: 8080, name: "http")
            .WithEnvironment("KAFKA_CLUSTERS_0_NAME", kafka.Resource.Name)
            .WithEnvironment("KAFKA_CLUSTERS_0_BOOTSTRAPSERVERS", $"{kafka.Resource.Name}:9093")
            .WithParentRelationship(kafka)
            .WaitFor(kafka)
            .ExcludeFromManifest();
        return kafka;
    }
}
