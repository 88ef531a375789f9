using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Confluent.Kafka;
using CouponAspire.Contracts.Events;
using CouponAspire.ServiceDefaults.Kafka;
using Microsoft.Extensions.Options;

namespace CouponAspire.Consumer.Consuming;

/// <summary>
/// One member of <c>coupon-service-group</c>. It owns its consume loop: poll what has arrived (up to a batch), decide
/// it, and only after the database commit store the offsets, which librdkafka commits in the background, on every
/// rebalance and on close. Each partition is read in offset order and decided in that order. When a batch fails on a
/// transient error its partitions are rewound to the batch's first offsets and read again after a pause; polling goes
/// on meanwhile, so rebalances are served. On shutdown the batch in hand is finished (for a few seconds at most), then
/// the consumer closes, which commits and leaves the group at once instead of waiting for the session to time out.
/// </summary>
internal sealed partial class CouponRequestConsumer(
    KafkaConsumerFactory<byte[]?, byte[]?> factory,
    CouponBatchProcessor processor,
    ConsumerLoopHealth health,
    KafkaMetrics kafkaMetrics,
    IOptions<CouponConsumerOptions> options,
    TimeProvider time,
    ILogger<CouponRequestConsumer> logger) : BackgroundService
{
    private static readonly TimeSpan PollTimeout = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan FinishBatchOnShutdown = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan LagInterval = TimeSpan.FromMilliseconds(250);

    // What the metrics report, written by the consume loop and read whenever metrics are collected.
    private readonly ConcurrentDictionary<int, long> _lag = new();
    private readonly ConcurrentDictionary<int, double> _timeLagSeconds = new();
    private readonly ConcurrentDictionary<int, byte> _assigned = new();

    // The consume loop's own.
    private readonly Dictionary<TopicPartition, long> _nextToDecide = [];
    private readonly Dictionary<TopicPartition, PartitionTimeLag> _timeLag = [];
    private long _lagUpdatedAt;

    /// <summary>
    /// The loop runs on a thread of its own: polling blocks, and a blocked pool thread would slow everything else
    /// in the process. The database work it waits for still runs asynchronously on the pool.
    /// </summary>
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var loop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        new Thread(() =>
        {
            try
            {
                Consume(stoppingToken);
                loop.SetResult();
            }
            catch (Exception e)
            {
                loop.SetException(e);
            }
        })
        {
            IsBackground = true,
            Name = $"{CouponTopics.Requests} consumer",
        }.Start();
        return loop.Task;
    }

    private void Consume(CancellationToken stoppingToken)
    {
        var config = factory.Config;
        var identity = new ConsumerIdentity(config.GroupId, config.ClientId);
        using var consumer = factory.CreateBuilder()
            .SetPartitionsAssignedHandler((_, partitions) => Assigned(partitions))
            .SetPartitionsRevokedHandler((_, partitions) => Forget("revoked", partitions.Select(p => p.TopicPartition)))
            .SetPartitionsLostHandler((_, partitions) => Forget("lost", partitions.Select(p => p.TopicPartition)))
            .Build();
        // The meter keeps the gauges; they read what this loop records.
        _ = kafkaMetrics.ObserveLag(() => Observe(_lag));
        _ = kafkaMetrics.ObserveTimeLag(() => Observe(_timeLagSeconds));
        _ = kafkaMetrics.ObserveAssignment(() => Observe(_assigned.ToDictionary(p => p.Key, _ => 1L)));

        // The batch in hand is finished even when stopping starts, within a grace period.
        using var finishing = new CancellationTokenSource();
        using var stopping = stoppingToken.Register(() => finishing.CancelAfter(FinishBatchOnShutdown));

        // Before joining: once the group hands out partitions, the first batch should not pay for cold connections and code.
        processor.WarmUpAsync(stoppingToken).GetAwaiter().GetResult();
        consumer.Subscribe(CouponTopics.Requests);
        LogStarted(identity.Group, identity.ClientId);
        var failures = 0;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                health.Beat();
                UpdateLag(consumer);
                var batch = Poll(consumer, options.Value.MaxBatchSize);
                if (batch.Count == 0)
                {
                    continue;
                }

                try
                {
                    processor.ProcessAsync(batch, identity, finishing.Token).GetAwaiter().GetResult();
                    if (failures > 0)
                    {
                        failures = 0;
                        health.Recovered();
                    }
                }
                catch (Exception e) when (TransientFailures.IsTransient(e) || e is OperationCanceledException)
                {
                    Rewind(consumer, batch);
                    if (stoppingToken.IsCancellationRequested)
                    {
                        break;
                    }

                    var delay = TimeSpan.FromMilliseconds(Math.Min(options.Value.MaxRetryDelay.TotalMilliseconds, 100 * Math.Pow(2, failures++)));
                    LogRetrying(e, batch.Count, delay);
                    health.Retrying(e);
                    stoppingToken.WaitHandle.WaitOne(delay);
                    continue;
                }

                StoreOffsets(consumer, batch);
            }
        }
        catch (Exception e)
        {
            health.Failed(e);
            LogConsumerFailed(e);
            throw;
        }
        finally
        {
            consumer.Close();
            LogStopped();
        }
    }

    /// <summary>Waits briefly for the first message, then takes what else has already arrived, up to a batch.</summary>
    private List<ConsumeResult<byte[]?, byte[]?>> Poll(IConsumer<byte[]?, byte[]?> consumer, int maxBatchSize)
    {
        var batch = new List<ConsumeResult<byte[]?, byte[]?>>();
        try
        {
            var wait = PollTimeout;
            while (batch.Count < maxBatchSize && consumer.Consume(wait) is { } message)
            {
                batch.Add(message);
                wait = TimeSpan.Zero;
            }
        }
        catch (ConsumeException e) when (!e.Error.IsFatal)
        {
            // For example the topic does not exist yet; keep what was read and poll again.
            LogConsumeError(e.Error.Code, e.Error.Reason);
        }

        // A rebalance served while polling may have taken partitions away: their messages are the new owner's now.
        if (batch.Count == 0)
        {
            return batch;
        }

        var assigned = consumer.Assignment.ToHashSet();
        batch.RemoveAll(m => !assigned.Contains(m.TopicPartition));
        return batch;
    }

    private void StoreOffsets(IConsumer<byte[]?, byte[]?> consumer, List<ConsumeResult<byte[]?, byte[]?>> batch)
    {
        foreach (var partition in batch.GroupBy(m => m.TopicPartition))
        {
            var last = partition.MaxBy(m => m.Offset.Value)!;
            try
            {
                consumer.StoreOffset(last);
                _nextToDecide[last.TopicPartition] = last.Offset.Value + 1;
            }
            catch (KafkaException e) when (e.Error.Code is ErrorCode.Local_State or ErrorCode.Local_UnknownPartition)
            {
                // Revoked meanwhile: the new owner reads it again from the committed offset and gets the same outcomes.
            }

            kafkaMetrics.RecordConsumed(partition.Key.Topic, factory.Config.GroupId, partition.Key.Partition.Value, partition.Count());
        }
    }

    /// <summary>Sets each partition of a failed batch back to its first message, so that the next polls read it again.</summary>
    private void Rewind(IConsumer<byte[]?, byte[]?> consumer, List<ConsumeResult<byte[]?, byte[]?>> batch)
    {
        var assigned = consumer.Assignment.ToHashSet();
        foreach (var first in batch.GroupBy(m => m.TopicPartition).Select(g => g.MinBy(m => m.Offset.Value)!))
        {
            if (!assigned.Contains(first.TopicPartition))
            {
                continue;
            }

            try
            {
                consumer.Seek(first.TopicPartitionOffset);
            }
            catch (KafkaException e)
            {
                LogRewindFailed(e, first.Partition.Value);
            }
        }
    }

    /// <summary>
    /// Lag per assigned partition, in messages (the partition's end as of the last fetch, less the next offset to
    /// decide) and in time (<see cref="PartitionTimeLag"/>); and whether every assigned partition has been fetched, which
    /// is when this member is ready.
    /// </summary>
    private void UpdateLag(IConsumer<byte[]?, byte[]?> consumer)
    {
        var tick = Environment.TickCount64;
        if (tick - _lagUpdatedAt < LagInterval.TotalMilliseconds)
        {
            return;
        }

        _lagUpdatedAt = tick;
        var now = time.GetTimestamp();
        var fetchedAll = true;
        foreach (var partition in consumer.Assignment)
        {
            var high = consumer.GetWatermarkOffsets(partition).High;
            if (high == Offset.Unset)
            {
                fetchedAll = false;
                continue;
            }

            var next = _nextToDecide.TryGetValue(partition, out var decided) ? decided : consumer.Position(partition).Value;
            if (next < 0)
            {
                continue;
            }

            var timeLag = _timeLag.TryGetValue(partition, out var known) ? known : _timeLag[partition] = new PartitionTimeLag();
            timeLag.Observe(high.Value, now);
            _lag[partition.Partition.Value] = Math.Max(0, high.Value - next);
            _timeLagSeconds[partition.Partition.Value] = timeLag.Lag(next, now, time).TotalSeconds;
        }

        if (fetchedAll)
        {
            health.Fetching();
        }
    }

    private void Assigned(List<TopicPartition> partitions)
    {
        // The group has taken this member in (with partitions, or none when there are more members than partitions).
        health.Assigned();
        foreach (var partition in partitions)
        {
            _assigned[partition.Partition.Value] = 1;
        }

        kafkaMetrics.RecordPartitionChange(factory.Config.GroupId, "assigned", partitions.Count);
        LogAssigned(string.Join(',', partitions.Select(p => p.Partition.Value)));
    }

    private void Forget(string how, IEnumerable<TopicPartition> partitions)
    {
        var list = partitions.ToList();
        health.Rebalancing();
        kafkaMetrics.RecordPartitionChange(factory.Config.GroupId, how, list.Count);
        foreach (var partition in list)
        {
            _lag.TryRemove(partition.Partition.Value, out _);
            _timeLagSeconds.TryRemove(partition.Partition.Value, out _);
            _assigned.TryRemove(partition.Partition.Value, out _);
            _nextToDecide.Remove(partition);
            _timeLag.Remove(partition);
        }

        LogUnassigned(how, string.Join(',', list.Select(p => p.Partition.Value)));
    }

    private IEnumerable<Measurement<T>> Observe<T>(IReadOnlyDictionary<int, T> byPartition) where T : struct =>
        byPartition.Select(p => new Measurement<T>(p.Value, KafkaMetrics.PartitionAttributes(CouponTopics.Requests, factory.Config.GroupId, p.Key)));

    [LoggerMessage(LogLevel.Information, "Consuming coupon-events as {Group} member {ClientId}")]
    private partial void LogStarted(string group, string? clientId);

    [LoggerMessage(LogLevel.Information, "Assigned partition(s) {Partitions}")]
    private partial void LogAssigned(string partitions);

    [LoggerMessage(LogLevel.Information, "Partition(s) {Partitions} {How}")]
    private partial void LogUnassigned(string how, string partitions);

    [LoggerMessage(LogLevel.Warning, "Kafka consume error {Code}: {Reason}")]
    private partial void LogConsumeError(ErrorCode code, string reason);

    [LoggerMessage(LogLevel.Warning, "A batch of {Count} message(s) failed on a transient error; reading it again in {Delay}")]
    private partial void LogRetrying(Exception exception, int count, TimeSpan delay);

    [LoggerMessage(LogLevel.Warning, "Could not rewind partition {Partition}")]
    private partial void LogRewindFailed(Exception exception, int partition);

    [LoggerMessage(LogLevel.Critical, "The consume loop stopped on an unexpected error")]
    private partial void LogConsumerFailed(Exception exception);

    [LoggerMessage(LogLevel.Information, "Left the consumer group")]
    private partial void LogStopped();
}
