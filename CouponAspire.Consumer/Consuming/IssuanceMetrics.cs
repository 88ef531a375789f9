using System.Diagnostics.Metrics;
using CouponAspire.Consumer.Issuance;
using CouponAspire.Data;

namespace CouponAspire.Consumer.Consuming;

/// <summary>The consumer's decision metrics on the <see cref="MeterName"/> meter.</summary>
internal sealed class IssuanceMetrics
{
    public const string MeterName = "CouponAspire.Issuance";

    /// <summary>Partition ids as attribute values, made once rather than per decision.</summary>
    private static readonly string[] PartitionIds = [.. Enumerable.Range(0, 1024).Select(p => p.ToString(System.Globalization.CultureInfo.InvariantCulture))];

    private readonly Counter<long> _decisions;
    private readonly Counter<long> _replayed;
    private readonly Histogram<double> _timeToDecision;
    private readonly Histogram<int> _batchSize;
    private readonly Counter<long> _deadLetters;

    public IssuanceMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _decisions = meter.CreateCounter<long>("coupon.decisions", "{decision}", "Requests decided, by outcome and partition (redeliveries not counted).");
        _replayed = meter.CreateCounter<long>("coupon.decisions.replayed", "{decision}", "Redelivered requests answered with their stored outcome.");
        _timeToDecision = meter.CreateHistogram(
            "coupon.decision.latency", "s", "From the API accepting a request to its decision being committed.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 0.75, 1, 2.5, 5, 10, 30] });
        _batchSize = meter.CreateHistogram(
            "coupon.batch.size", "{message}", "Messages decided per database transaction.",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000] });
        _deadLetters = meter.CreateCounter<long>("coupon.dead_letters", "{message}", "Messages set aside to the dead-letter topic.");
    }

    public void Decided(IssuanceOutcome outcome, TimeSpan timeToDecision, int partition)
    {
        var tag = new KeyValuePair<string, object?>("coupon.outcome", outcome.ToString());
        _decisions.Add(1, tag, new KeyValuePair<string, object?>("messaging.destination.partition.id", partition < PartitionIds.Length ? PartitionIds[partition] : partition.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        _timeToDecision.Record(timeToDecision.TotalSeconds, tag);
    }

    public void Replayed() => _replayed.Add(1);

    public void Batch(int size) => _batchSize.Record(size);

    public void DeadLettered() => _deadLetters.Add(1);
}
