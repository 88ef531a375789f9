using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using Confluent.Kafka;

namespace CouponAspire.Kafka;

/// <summary>
/// Kafka client metrics with the OpenTelemetry messaging conventions, on the <see cref="KafkaTracing.Name"/>
/// meter. Created through <see cref="IMeterFactory"/>, so that each host (also several in one test process) reports its own.
/// </summary>
public sealed class KafkaMetrics
{
    private readonly Meter _meter;
    private readonly Counter<long> _sentMessages;
    private readonly Histogram<double> _sendDuration;
    private readonly Counter<long> _consumedMessages;
    private readonly Counter<long> _partitionChanges;

    public KafkaMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(KafkaTracing.Name);
        _sentMessages = _meter.CreateCounter<long>(
            "messaging.client.sent.messages", "{message}", "Messages handed to the producer, by result (error.type when the broker did not take them).");
        _sendDuration = _meter.CreateHistogram(
            "messaging.client.operation.duration", "s", "Time from handing messages to the producer to the broker's acknowledgement of them.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
        _consumedMessages = _meter.CreateCounter<long>("messaging.client.consumed.messages", "{message}", "Messages the consumer received.");
        _partitionChanges = _meter.CreateCounter<long>(
            "messaging.kafka.consumer.partition_changes", "{partition}", "Partitions assigned to, revoked from or lost by this consumer in rebalances, by change.");
    }

    /// <summary>A publish of <paramref name="count"/> messages (one operation), acknowledged or failed after <paramref name="elapsed"/>.</summary>
    public void RecordPublished(string topic, TimeSpan elapsed, Error? error = null, int count = 1)
    {
        var tags = new TagList { { "messaging.system", "kafka" }, { "messaging.operation.name", "publish" }, { "messaging.destination.name", topic } };
        if (error is not null)
        {
            tags.Add("error.type", error.Code.ToString());
        }

        _sentMessages.Add(count, tags);
        _sendDuration.Record(elapsed.TotalSeconds, tags);
    }

    public void RecordConsumed(string topic, string consumerGroup, int partition, int count) =>
        _consumedMessages.Add(count, new TagList
        {
            { "messaging.system", "kafka" },
            { "messaging.destination.name", topic },
            { "messaging.consumer.group.name", consumerGroup },
            { "messaging.destination.partition.id", partition.ToString(CultureInfo.InvariantCulture) },
        });

    /// <param name="change"><c>assigned</c>, <c>revoked</c> (handed over in a rebalance) or <c>lost</c> (taken away: the member was out of the group).</param>
    public void RecordPartitionChange(string consumerGroup, string change, int partitions) =>
        _partitionChanges.Add(partitions, new TagList
        {
            { "messaging.system", "kafka" },
            { "messaging.consumer.group.name", consumerGroup },
            { "messaging.kafka.partition_change", change },
        });

    /// <summary>
    /// Reports consumer lag per partition — messages in the partition after the last one processed — as
    /// <c>messaging.kafka.consumer.lag</c>, read from <paramref name="observe"/> whenever metrics are collected.
    /// </summary>
    public ObservableGauge<long> ObserveLag(Func<IEnumerable<Measurement<long>>> observe) =>
        _meter.CreateObservableGauge("messaging.kafka.consumer.lag", observe, "{message}", "Messages in the partition after the last one processed.");

    /// <summary>
    /// Reports how long the oldest unprocessed message of each partition has waited, as
    /// <c>messaging.kafka.consumer.time_lag</c> (zero when the consumer is caught up).
    /// </summary>
    public ObservableGauge<double> ObserveTimeLag(Func<IEnumerable<Measurement<double>>> observe) =>
        _meter.CreateObservableGauge("messaging.kafka.consumer.time_lag", observe, "s", "How long the oldest unprocessed message of the partition has waited.");

    /// <summary>
    /// Reports the partitions this consumer holds now as <c>messaging.kafka.consumer.assigned_partitions</c>: 1 for each,
    /// with the partition as an attribute, so that a chart by partition shows which member holds which.
    /// </summary>
    public ObservableGauge<long> ObserveAssignment(Func<IEnumerable<Measurement<long>>> observe) =>
        _meter.CreateObservableGauge("messaging.kafka.consumer.assigned_partitions", observe, "{partition}", "Partitions this consumer holds now, one series a partition.");

    /// <summary>The attributes of a consumer's measurement about one partition (OpenTelemetry messaging conventions).</summary>
    public static KeyValuePair<string, object?>[] PartitionAttributes(string topic, string consumerGroup, int partition) =>
    [
        new("messaging.system", "kafka"),
        new("messaging.destination.name", topic),
        new("messaging.destination.partition.id", partition.ToString(CultureInfo.InvariantCulture)),
        new("messaging.consumer.group.name", consumerGroup),
    ];
}
