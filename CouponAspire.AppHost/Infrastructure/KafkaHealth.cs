using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CouponAspire.AppHost.Infrastructure;

/// <summary>The health of a Kafka resource: a broker answers a metadata request in time.</summary>
internal static class KafkaHealth
{
    public static IResourceBuilder<T> WithKafkaHealthCheck<T>(this IResourceBuilder<T> kafka) where T : IResourceWithConnectionString
    {
        var key = $"{kafka.Resource.Name}_check";
        kafka.ApplicationBuilder.Services.AddHealthChecks().AddAsyncCheck(key, async cancellationToken =>
        {
            var bootstrapServers = await kafka.Resource.ConnectionStringExpression.GetValueAsync(cancellationToken);
            // librdkafka's own log would go to the AppHost's stderr: what matters is in the check's result.
            using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrapServers })
                .SetLogHandler((_, _) => { })
                .Build();
            try
            {
                var metadata = await Task.Run(() => admin.GetMetadata(TimeSpan.FromSeconds(3)), cancellationToken);
                return metadata.Brokers.Count > 0
                    ? HealthCheckResult.Healthy($"{metadata.Brokers.Count} broker(s)")
                    : HealthCheckResult.Unhealthy("No brokers in the cluster metadata.");
            }
            catch (KafkaException e)
            {
                return HealthCheckResult.Unhealthy("Kafka did not answer.", e);
            }
        });
        return kafka.WithHealthCheck(key);
    }
}
