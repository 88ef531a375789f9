using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CouponAspire.Consumer.Consuming;

/// <summary>
/// Ready once the consumer group has taken this member in and while the consume loop runs and keeps coming round.
/// Degraded while it waits out a transient failure (it still does its job: nothing is skipped), unhealthy before it
/// joined, when it stopped, or when it has not come round for a while.
/// </summary>
internal sealed class ConsumerLoopHealth(TimeProvider time) : IHealthCheck
{
    private static readonly TimeSpan Stalled = TimeSpan.FromSeconds(30);

    private long _lastBeat;
    private volatile bool _joined;
    private Exception? _retrying;
    private Exception? _failed;

    public void Beat() => Volatile.Write(ref _lastBeat, time.GetTimestamp());

    /// <summary>The group assigned this member its partitions (possibly none) for the first time.</summary>
    public void Joined() => _joined = true;

    public void Retrying(Exception exception) => _retrying = exception;

    public void Recovered() => _retrying = null;

    public void Failed(Exception exception) => _failed = exception;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var lastBeat = Volatile.Read(ref _lastBeat);
        var result = (lastBeat, _failed, _retrying) switch
        {
            (_, { } failed, _) => HealthCheckResult.Unhealthy("The consume loop stopped.", failed),
            (0, _, _) => HealthCheckResult.Unhealthy("The consume loop has not started."),
            _ when !_joined => HealthCheckResult.Unhealthy("Waiting for the consumer group to assign partitions."),
            _ when time.GetElapsedTime(lastBeat) > Stalled => HealthCheckResult.Unhealthy($"The consume loop has not come round for {time.GetElapsedTime(lastBeat):g}."),
            (_, _, { } retrying) => HealthCheckResult.Degraded("Waiting out a transient failure.", retrying),
            _ => HealthCheckResult.Healthy("Consuming."),
        };
        return Task.FromResult(result);
    }
}
