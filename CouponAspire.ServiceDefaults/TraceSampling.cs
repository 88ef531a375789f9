using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using OpenTelemetry.Trace;

namespace CouponAspire.ServiceDefaults;

/// <summary>
/// Which traces are exported: every one while traffic is light, at most <see cref="TracesPerSecond"/> new traces a second
/// under a stampede (a fair share of requests, spread over time), and every failure whatever its trace. Metrics are not
/// sampled. A span of a trace that is not sampled is not created at all (the request still carries its trace id, for
/// logs and for the services it calls), so a flash sale costs the services neither the spans nor their attributes of
/// the requests it does not export. A failure is exported by starting a span for it with its
/// <see cref="ErrorTypeTag"/> (<see cref="FailedRequestTraces"/>, the Kafka tracing's failed publishes and dead
/// letters): such a span is always sampled. Configured by <c>Telemetry:TracesPerSecond</c>; 0 or less exports every trace.
/// </summary>
public static class TraceSampling
{
    public const string TracesPerSecondKey = "Telemetry:TracesPerSecond";

    /// <summary>The default: enough to find a request in the dashboard, few enough for it to keep up.</summary>
    public const double TracesPerSecond = 10;

    /// <summary>The semantic conventions' attribute of a failure: a span started with it is exported, whatever its trace.</summary>
    public const string ErrorTypeTag = "error.type";

    public static TracerProviderBuilder AddBoundedTraceSampling(this TracerProviderBuilder tracing, IConfiguration configuration)
    {
        var perSecond = configuration.GetValue(TracesPerSecondKey, TracesPerSecond);
        return tracing.SetSampler(perSecond <= 0 ? new AlwaysOnSampler() : new RateLimitedSampler(perSecond, TimeProvider.System));
    }

    /// <summary>
    /// Decides at a trace's root: sampled while the budget of traces a second lasts (a token bucket with a second's
    /// worth of burst), dropped after that. A span with a parent does what its parent did, so that a trace is whole or
    /// absent across processes; a span started with an <see cref="ErrorTypeTag"/> is sampled whatever its parent.
    /// </summary>
    public sealed class RateLimitedSampler(double perSecond, TimeProvider time) : Sampler
    {
        private static readonly SamplingResult Sampled = new(SamplingDecision.RecordAndSample);
        private static readonly SamplingResult Dropped = new(SamplingDecision.Drop);

        private readonly Lock _lock = new();
        private readonly double _perSecond = perSecond;
        private double _budget = perSecond;
        private long _refilledAt = time.GetTimestamp();

        public override SamplingResult ShouldSample(in SamplingParameters samplingParameters)
        {
            if (IsFailure(samplingParameters.Tags))
            {
                return Sampled;
            }

            if (samplingParameters.ParentContext.TraceId != default)
            {
                return samplingParameters.ParentContext.TraceFlags.HasFlag(ActivityTraceFlags.Recorded) ? Sampled : Dropped;
            }

            return TryTake() ? Sampled : Dropped;
        }

        private static bool IsFailure(IEnumerable<KeyValuePair<string, object?>>? tags)
        {
            if (tags is null)
            {
                return false;
            }

            foreach (var tag in tags)
            {
                if (tag.Key == ErrorTypeTag)
                {
                    return true;
                }
            }

            return false;
        }

        private bool TryTake()
        {
            lock (_lock)
            {
                var now = time.GetTimestamp();
                _budget = Math.Min(_perSecond, _budget + (time.GetElapsedTime(_refilledAt, now).TotalSeconds * _perSecond));
                _refilledAt = now;
                if (_budget < 1)
                {
                    return false;
                }

                _budget--;
                return true;
            }
        }
    }
}
