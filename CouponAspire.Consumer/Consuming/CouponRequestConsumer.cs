using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using Confluent.Kafka;
using CouponAspire.Contracts.Events;
using CouponAspire.Kafka;
using Microsoft.Extensions.Options;

namespace CouponAspire.Consumer.Consuming;

/// <summary>
/// One member of <c>coupon-service-group</c>. It owns its consume loop: poll what has arrived (up to a batch), decide
/// it, and only after the database commit store the offsets, which librdkafka commits in the background, on every
/// rebalance and on close. Each partition is read in offset order and decided in that order, one batch at a time; while
/// a batch is in the database the loop polls and decodes the next, which is decided once the one before it is committed.
/// When a batch fails on a transient error its partitions (and the next batch's) are rewound to their first offsets and
/// read again after a pause; polling goes on meanwhile, so rebalances are served. A rebalance that takes partitions
/// away first waits for the batch in the database and stores its offsets, so that the next owner starts after it. On
/// shutdown the batch in hand is finished (for a few seconds at most), then the consumer closes, which commits and
/// leaves the group at once instead of waiting for the session to time out.
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

    // The batch in the database, if any, the batch being read meanwhile, and decided batches whose telemetry is still to
    // be written. The rebalance handlers see them too: they run on the consume thread, inside Consume.
    private readonly Queue<DecidedBatch> _decided = new();
    private InFlight? _inFlight;
    private ReadBatch _next = new();

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
            .SetPartitionsRevokedHandler((c, partitions) => Forget(c, identity, "revoked", partitions.Select(p => p.TopicPartition)))
            .SetPartitionsLostHandler((c, partitions) => Forget(c, identity, "lost", partitions.Select(p => p.TopicPartition)))
            .Build();
        // The meter keeps the gauges; they read what this loop records.
        _ = kafkaMetrics.ObserveLag(() => Observe(_lag));
        _ = kafkaMetrics.ObserveTimeLag(() => Observe(_timeLagSeconds));
        _ = kafkaMetrics.ObserveAssignment(() => Observe(_assigned.ToDictionary(p => p.Key, _ => 1L)));

        // The batch in hand is finished even when stopping starts, within a grace period.
        using var finishing = new CancellationTokenSource();
        using var stopping = stoppingToken.Register(() => finishing.CancelAfter(FinishBatchOnShutdown));

        // Before joining: once the group hands out partitions, the first batch should not pay for cold connections and code.
        var maxBatchSize = options.Value.MaxBatchSize;
        processor.WarmUpAsync(maxBatchSize, stoppingToken).GetAwaiter().GetResult();
        consumer.Subscribe(CouponTopics.Requests);
        LogStarted(identity.Group, identity.ClientId);
        var failures = 0;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                health.Beat();
                UpdateLag(consumer);

                // While a batch is in the database, read what has already arrived without waiting for more.
                Poll(consumer, maxBatchSize, _inFlight is null ? PollTimeout : TimeSpan.Zero);
                if (_inFlight is { } inFlight)
                {
                    if (!Complete(consumer, inFlight, identity, out var failure))
                    {
                        // Its partitions, and those of the batch read after it, are read again from the failed batch's first messages.
                        Rewind(consumer, inFlight.Batch.Messages.Concat(_next.Messages), consumer.Assignment);
                        _next = new ReadBatch();
                        if (stoppingToken.IsCancellationRequested)
                        {
                            break;
                        }

                        var delay = TimeSpan.FromMilliseconds(Math.Min(options.Value.MaxRetryDelay.TotalMilliseconds, 100 * Math.Pow(2, failures++)));
                        LogRetrying(failure, inFlight.Batch.Count, delay);
                        health.Retrying(failure);
                        stoppingToken.WaitHandle.WaitOne(delay);
                        continue;
                    }

                    if (failures > 0)
                    {
                        failures = 0;
                        health.Recovered();
                    }

                    // What arrived while it was in the database joins the next batch.
                    Poll(consumer, maxBatchSize, TimeSpan.Zero);
                }

                // The next batch goes to the engine; the telemetry of the one before is written meanwhile.
                if (_next.Count > 0)
                {
                    var batch = _next;
                    _next = new ReadBatch();
                    _inFlight = new InFlight(batch, Task.Run(() => processor.DecideAsync(batch, identity, finishing.Token), CancellationToken.None));
                }

                RecordCompleted(identity);
            }

            // Stopping: the batch in the database is finished (within the grace period) and its offsets stored. Not
            // finished, it is read again from the committed offsets by whoever owns its partitions next.
            if (_inFlight is { } last && Complete(consumer, last, identity, out _))
            {
                RecordCompleted(identity);
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

    /// <summary>
    /// Waits for the batch in the database. Decided: its offsets are stored, and its telemetry is written once the next
    /// batch is on its way (<see cref="RecordCompleted"/>). Failed on a transient error (or cancelled on shutdown): false,
    /// nothing stored. Any other failure is thrown and stops the loop.
    /// </summary>
    private bool Complete(IConsumer<byte[]?, byte[]?> consumer, InFlight inFlight, ConsumerIdentity identity, [NotNullWhen(false)] out Exception? failure)
    {
        _inFlight = null;
        try
        {
            inFlight.Deciding.GetAwaiter().GetResult();
        }
        catch (Exception e) when (TransientFailures.IsTransient(e) || e is OperationCanceledException)
        {
            failure = e;
            return false;
        }

        StoreOffsets(consumer, inFlight.Batch.Messages, identity);
        _decided.Enqueue(inFlight.Deciding.Result);
        failure = null;
        return true;
    }

    /// <summary>Writes the spans, metrics and logs of the batches decided since the last call.</summary>
    private void RecordCompleted(ConsumerIdentity identity)
    {
        while (_decided.TryDequeue(out var decided))
        {
            processor.Record(decided, identity);
        }
    }

    /// <summary>
    /// Reads into the next batch what has arrived, up to <paramref name="maxBatchSize"/>: waits up to
    /// <paramref name="wait"/> for the first message, then takes only what is already here.
    /// </summary>
    private void Poll(IConsumer<byte[]?, byte[]?> consumer, int maxBatchSize, TimeSpan wait)
    {
        try
        {
            while (_next.Count < maxBatchSize && consumer.Consume(wait) is { } message)
            {
                _next.Add(message);
                wait = TimeSpan.Zero;
            }
        }
        catch (ConsumeException e) when (!e.Error.IsFatal)
        {
            // For example the topic does not exist yet; keep what was read and poll again.
            LogConsumeError(e.Error.Code, e.Error.Reason);
        }
    }

    private void StoreOffsets(IConsumer<byte[]?, byte[]?> consumer, List<ConsumeResult<byte[]?, byte[]?>> batch, ConsumerIdentity identity)
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
                // Lost meanwhile: the new owner reads it again from the committed offset and gets the same outcomes.
            }

            kafkaMetrics.RecordConsumed(partition.Key.Topic, identity.Group, partition.Key.Partition.Value, partition.Count());
        }
    }

    /// <summary>
    /// Sets each partition of <paramref name="batch"/> that is in <paramref name="partitions"/> back to its first message
    /// there, so that the next polls read it again.
    /// </summary>
    private void Rewind(IConsumer<byte[]?, byte[]?> consumer, IEnumerable<ConsumeResult<byte[]?, byte[]?>> batch, IEnumerable<TopicPartition> partitions)
    {
        var assigned = partitions.ToHashSet();
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

    /// <summary>
    /// Partitions are being taken away (still this member's until the handler returns). The batch in the database is
    /// finished first and its offsets stored, so that the next owner starts after it; the batch being read after it is
    /// dropped, and partitions this member keeps are set back to read it again. Had the batch in the database failed, its
    /// kept partitions are set back too, and the next owner of the others reads it from their committed offsets.
    /// </summary>
    private void Forget(IConsumer<byte[]?, byte[]?> consumer, ConsumerIdentity identity, string how, IEnumerable<TopicPartition> partitions)
    {
        var list = partitions.ToList();
        var kept = consumer.Assignment.Except(list).ToList();
        var unread = _next.Messages.AsEnumerable();
        if (_inFlight is { } inFlight && !Complete(consumer, inFlight, identity, out var failure))
        {
            LogFailedAtRebalance(failure, inFlight.Batch.Count);
            unread = inFlight.Batch.Messages.Concat(unread);
        }

        Rewind(consumer, unread, kept);
        _next = new ReadBatch();

        health.Rebalancing();
        kafkaMetrics.RecordPartitionChange(identity.Group, how, list.Count);
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

    [LoggerMessage(LogLevel.Warning, "A batch of {Count} message(s) failed while partitions were taken away; it is read again from where it began")]
    private partial void LogFailedAtRebalance(Exception exception, int count);

    [LoggerMessage(LogLevel.Warning, "Could not rewind partition {Partition}")]
    private partial void LogRewindFailed(Exception exception, int partition);

    [LoggerMessage(LogLevel.Critical, "The consume loop stopped on an unexpected error")]
    private partial void LogConsumerFailed(Exception exception);

    [LoggerMessage(LogLevel.Information, "Left the consumer group")]
    private partial void LogStopped();

    /// <summary>A batch handed to the engine, and its decision under way.</summary>
    private sealed record InFlight(ReadBatch Batch, Task<DecidedBatch> Deciding);
}
