using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace CouponAspire.ServiceDefaults;

/// <summary>
/// Which traces are exported: every one while traffic is light, at most <see cref="TracesPerSecond"/> new traces a second
/// under a stampede (a fair share of requests, spread over time), and every span that ends in error whatever its trace.
/// Metrics are not sampled. Spans of unsampled traces are still recorded (their error status is known when they end)
/// but only exported when they fail, so a flash sale costs the services and the dashboard a bounded export, not one per
/// request. Configured by <c>Telemetry:TracesPerSecond</c>; 0 or less exports every trace.
/// </summary>
public static class TraceSampling
{
    public const string TracesPerSecondKey = "Telemetry:TracesPerSecond";

    /// <summary>The default: enough to find a request in the dashboard, few enough for it to keep up.</summary>
    public const double TracesPerSecond = 10;

    public static TracerProviderBuilder AddBoundedTraceSampling(this TracerProviderBuilder tracing, IConfiguration configuration)
    {
        var perSecond = configuration.GetValue(TracesPerSecondKey, TracesPerSecond);
        return perSecond <= 0
            ? tracing.SetSampler(new AlwaysOnSampler())
            : tracing.SetSampler(new RateLimitedSampler(perSecond, TimeProvider.System)).AddProcessor(new ExportErrors());
    }

    /// <summary>
    /// Decides at a trace's root: sampled while the budget of traces a second lasts (a token bucket with a second's
    /// worth of burst), recorded but not sampled after that. A span with a parent does what its parent did, so that a
    /// trace is whole or absent across processes.
    /// </summary>
    public sealed class RateLimitedSampler(double perSecond, TimeProvider time) : Sampler
    {
        private static readonly SamplingResult Sampled = new(SamplingDecision.RecordAndSample);
        private static readonly SamplingResult RecordedOnly = new(SamplingDecision.RecordOnly);

        private readonly Lock _lock = new();
        private readonly double _perSecond = perSecond;
        private double _budget = perSecond;
        private long _refilledAt = time.GetTimestamp();

        public override SamplingResult ShouldSample(in SamplingParameters samplingParameters)
        {
            if (samplingParameters.ParentContext.TraceId != default)
            {
                return samplingParameters.ParentContext.TraceFlags.HasFlag(ActivityTraceFlags.Recorded) ? Sampled : RecordedOnly;
            }

            return TryTake() ? Sampled : RecordedOnly;
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

    /// <summary>
    /// Marks a span that ends in error for export although its trace was not sampled: the exporter that follows sends
    /// what is marked recorded. Registered before the exporter, so that it sees the mark.
    /// </summary>
    private sealed class ExportErrors : BaseProcessor<Activity>
    {
        public override void OnEnd(Activity data)
        {
            if (data.Status == ActivityStatusCode.Error && !data.Recorded)
            {
                data.ActivityTraceFlags |= ActivityTraceFlags.Recorded;
            }
        }
    }
}
