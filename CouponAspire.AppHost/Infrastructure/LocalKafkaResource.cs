using System.Globalization;
using Microsoft.Extensions.DependencyInjection;

namespace CouponAspire.AppHost.Infrastructure;

/// <summary>
/// Kafka where no container runtime answers: librdkafka's mock cluster, kept alive by a process of its own (the
/// <c>{name}-mock</c> project, CouponAspire.LocalKafka). Its brokers listen on ports of their own choosing, so this
/// resource learns the bootstrap servers from that process once it is ready, and says it is running then.
/// </summary>
public sealed class LocalKafkaResource(string name) : Resource(name), IResourceWithConnectionString, IResourceWithWaitSupport
{
    internal RuntimeValue BootstrapServers { get; } = new($"{{{name}.bootstrapServers}}");

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create($"{BootstrapServers}");
}

/// <summary>A value known only once the application runs; whoever needs it before then waits for it.</summary>
internal sealed class RuntimeValue(string manifestExpression) : IValueProvider, IManifestExpressionProvider
{
    private readonly TaskCompletionSource<string> _value = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string ValueExpression => manifestExpression;

    public void Set(string value) => _value.TrySetResult(value);

    public async ValueTask<string?> GetValueAsync(CancellationToken cancellationToken = default) =>
        await _value.Task.WaitAsync(cancellationToken);
}

internal static class LocalKafkaBuilderExtensions
{
    public static IResourceBuilder<LocalKafkaResource> AddLocalKafka(this IDistributedApplicationBuilder builder, string name, int partitions)
    {
        var kafka = builder.AddResource(new LocalKafkaResource(name))
            .WithInitialState(new CustomResourceSnapshot
            {
                ResourceType = "Kafka",
                State = KnownResourceStates.Waiting,
                Properties = [new("kafka.implementation", "librdkafka mock cluster (in memory)")],
            })
            .WithIconName("Stream")
            .WithKafkaHealthCheck()
            .ExcludeFromManifest();

        var mock = builder.AddProject<Projects.CouponAspire_LocalKafka>($"{name}-mock")
            .WithEnvironment("CouponEvents__Partitions", partitions.ToString(CultureInfo.InvariantCulture))
            .WithHttpHealthCheck("/health")
            .WithParentRelationship(kafka)
            .ExcludeFromManifest();

        builder.Eventing.Subscribe<ResourceReadyEvent>(mock.Resource, async (@event, cancellationToken) =>
        {
            using var http = new HttpClient { BaseAddress = new Uri(mock.GetEndpoint("http").Url) };
            var bootstrapServers = await http.GetStringAsync("/bootstrap-servers", cancellationToken);
            kafka.Resource.BootstrapServers.Set(bootstrapServers);
            await @event.Services.GetRequiredService<ResourceNotificationService>().PublishUpdateAsync(kafka.Resource, state => state with
            {
                State = KnownResourceStates.Running,
                StartTimeStamp = DateTime.UtcNow,
                Properties = [.. state.Properties, new("kafka.bootstrap_servers", bootstrapServers)],
            });
            await builder.Eventing.PublishAsync(new ConnectionStringAvailableEvent(kafka.Resource, @event.Services), cancellationToken);
        });

        return kafka;
    }
}
