using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace CouponAspire.Consumer.Consuming;

/// <summary>
/// Ready (healthy) once this member has its share of the group: it was given partitions (or none, when there are more
/// members than partitions), it is fetching each of them (the broker has answered a fetch for it), and no rebalance has
/// followed for <see cref="CouponConsumerOptions.StableAfter"/> (none by default). Members that start together may need
/// a few generations to agree, each of which looks whole to the members it includes for a moment before the next begins:
/// a settling time keeps a script or an orchestrator from starting a sale while partitions still move. While it joins,
/// or while a rebalance has taken its
/// partitions away, it is not ready yet: Degraded, which <c>/health</c> answers 503, a state every start passes through
/// and logged as such, not as an error. Degraded too while it waits out a transient failure (nothing is skipped, but
/// nothing is decided either). Unhealthy when the loop stopped or has not come round for a while.
/// </summary>
internal sealed class ConsumerLoopHealth(TimeProvider time, IOptions<CouponConsumerOptions> options) : IHealthCheck
{
    private static readonly TimeSpan Stalled = TimeSpan.FromSeconds(30);

    private long _lastBeat;
    private long _assignedAt;
    private volatile GroupState _group = GroupState.Joining;
    private Exception? _retrying;
    private Exception? _failed;

    private enum GroupState
    {
        Joining,
        Assigned,
        Fetching,
        Rebalancing,
    }

    /// <summary>Whether this member is fetching its share of an assignment that has stood for <see cref="CouponConsumerOptions.StableAfter"/>.</summary>
    public bool Stable => _group == GroupState.Fetching && time.GetElapsedTime(Volatile.Read(ref _assignedAt)) >= options.Value.StableAfter;

    public void Beat() => Volatile.Write(ref _lastBeat, time.GetTimestamp());

    /// <summary>The group gave this member its share of a new generation (possibly none of the partitions).</summary>
    public void Assigned()
    {
        Volatile.Write(ref _assignedAt, time.GetTimestamp());
        _group = GroupState.Assigned;
    }

    /// <summary>The broker has answered a fetch for every partition of the assignment.</summary>
    public void Fetching()
    {
        if (_group == GroupState.Assigned)
        {
            _group = GroupState.Fetching;
        }
    }

    /// <summary>A rebalance took this member's partitions away (revoked, or lost with the session).</summary>
    public void Rebalancing() => _group = GroupState.Rebalancing;

    public void Retrying(Exception exception) => _retrying = exception;

    public void Recovered() => _retrying = null;

    public void Failed(Exception exception) => _failed = exception;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var lastBeat = Volatile.Read(ref _lastBeat);
        var result = (lastBeat, _failed, _retrying, _group) switch
        {
            (_, { } failed, _, _) => HealthCheckResult.Unhealthy("The consume loop stopped.", failed),
            (0, _, _, _) => HealthCheckResult.Degraded("Starting: the consume loop has not come round yet."),
            _ when time.GetElapsedTime(lastBeat) > Stalled => HealthCheckResult.Unhealthy($"The consume loop has not come round for {time.GetElapsedTime(lastBeat):g}."),
            (_, _, { } retrying, _) => HealthCheckResult.Degraded("Waiting out a transient failure.", retrying),
            (_, _, _, GroupState.Joining) => HealthCheckResult.Degraded("Joining the consumer group."),
            (_, _, _, GroupState.Assigned) => HealthCheckResult.Degraded("Assigned partitions; waiting for the first fetch of each."),
            (_, _, _, GroupState.Rebalancing) => HealthCheckResult.Degraded("The consumer group is rebalancing."),
            _ when !Stable => HealthCheckResult.Degraded("Fetching its share; waiting to see the group settle."),
            _ => HealthCheckResult.Healthy("Consuming its share of a stable group."),
        };
        return Task.FromResult(result);
    }
}
