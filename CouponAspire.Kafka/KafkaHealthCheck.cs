using Confluent.Kafka;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CouponAspire.Kafka;

/// <summary>
/// Healthy when a broker answers a metadata request in time (the replacement for Aspire.Confluent.Kafka's check,
/// without producing to a health topic, which would need topic auto-creation).
/// </summary>
public sealed class KafkaHealthCheck(AdminClientConfig adminConfig) : IHealthCheck, IDisposable
{
    private readonly Lazy<IAdminClient> _admin = new(() => new AdminClientBuilder(adminConfig).Build());

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var metadata = await Task.Run(() => _admin.Value.GetMetadata(TimeSpan.FromSeconds(3)), cancellationToken);
            return metadata.Brokers.Count > 0
                ? HealthCheckResult.Healthy($"{metadata.Brokers.Count} broker(s)")
                : HealthCheckResult.Unhealthy("No brokers in the cluster metadata.");
        }
        catch (KafkaException e)
        {
            return HealthCheckResult.Unhealthy("Kafka did not answer.", e);
        }
    }

    public void Dispose()
    {
        if (_admin.IsValueCreated)
        {
            _admin.Value.Dispose();
        }
    }
}
