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
/// rebalance and on close. Each partition is read in offset order and decided in that order, one batch at a time, as a
/// pipeline: while a batch is in the database the loop polls and decodes the next, and the decisions of the one before
/// are published meanwhile; the next batch goes to the database once this one is committed (a full one at once, by the
/// thread that sees the commit), and its decisions are published once those before them are acknowledged, so that
/// <c>coupon-decisions</c> follows the requests' order. A batch's offsets are stored once its decisions are
/// acknowledged. When a batch fails on a transient error (or its decisions do) its partitions, and those of every batch
/// after it, are rewound to their first offsets and read again after a pause; polling goes on meanwhile, so rebalances
/// are served. A rebalance that takes partitions away first waits for the batches in flight and stores their offsets,
/// so that the next owner starts after them. On shutdown the batches in hand are finished (for a few seconds at most),
/// then the consumer closes, which commits and leaves the group at once instead of waiting for the session to time out.
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

    // The batch in the database, if any; the batch before it, decided, whose decisions are being published; the batch
    // being read meanwhile; and batches whose offsets are stored and whose telemetry is still to be written. The
    // rebalance handlers see them too: they run on the consume thread, inside Consume.
    private readonly Queue<DecidedBatch> _decided = new();
    private InFlight? _deciding;
    private InFlight? _publishing;
    private ReadBatch _next = new();

    // While the loop waits for the batch in the database with a full batch in hand, the thread that sees that batch
    // commit starts the next one (StartNextOnCommit) and leaves it in _started for the loop to take over.
    private readonly Lock _handOff = new();
    private InFlight? _startOnCommitOf;
    private InFlight? _started;

    /// <summary>
    /// The loop runs on a thread of its own: polling blocks, and a blocked pool thread would slow everything else
    /// in the process. It starts each batch's database work itself; the answers are handled on the pool.
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

                // While batches are in flight, read what has already arrived without waiting for more.
                Poll(consumer, maxBatchSize, _deciding is null && _publishing is null ? PollTimeout : TimeSpan.Zero);
                if (!Advance(consumer, identity, maxBatchSize, finishing.Token, out var stored))
                {
                    // The partitions of the batch that failed, of those after it and of the batch read meanwhile are read
                    // again from their first messages; a batch before it whose decisions were acknowledged is stored.
                    var (unstored, failure) = Settle(consumer, identity);
                    Rewind(consumer, unstored.Concat(_next.Messages), consumer.Assignment);
                    _next = new ReadBatch();
                    if (stoppingToken.IsCancellationRequested)
                    {
                        break;
                    }

                    var delay = TimeSpan.FromMilliseconds(Math.Min(options.Value.MaxRetryDelay.TotalMilliseconds, 100 * Math.Pow(2, failures++)));
                    LogRetrying(failure!, unstored.Count, delay);
                    health.Retrying(failure!);
                    stoppingToken.WaitHandle.WaitOne(delay);
                    continue;
                }

                if (stored && failures > 0)
                {
                    failures = 0;
                    health.Recovered();
                }

                RecordCompleted(identity);
            }

            // Stopping: the batches in flight are finished (within the grace period) and their offsets stored. Not
            // finished, they are read again from the committed offsets by whoever owns their partitions next.
            Settle(consumer, identity);
            RecordCompleted(identity);
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
    /// One step of the pipeline. Once the batch in the database is decided, the batch before it must have its decisions
    /// acknowledged (by then they usually are): its offsets are stored, and the decided batch's decisions are published
    /// while the next batch, if one has arrived, goes to the database. With nothing to decide, the acknowledgement is
    /// waited for at once. False when a batch failed on a transient error (or was cancelled on shutdown); any other
    /// failure is thrown and stops the loop. <paramref name="stored"/>: whether a batch's offsets were stored.
    /// </summary>
    private bool Advance(IConsumer<byte[]?, byte[]?> consumer, ConsumerIdentity identity, int maxBatchSize, CancellationToken cancellationToken, out bool stored)
    {
        stored = false;
        if (_deciding is { } deciding)
        {
            // A full batch in hand goes to the database the moment this one commits, from the thread that sees the commit:
            // this one, woken afterwards, would start it 1–3 ms later on a busy machine, with PostgreSQL idle meanwhile.
            StartOnCommitOf(_next.Count >= maxBatchSize ? deciding : null);
            deciding.HandedOn.Wait(CancellationToken.None); // its decision, and then what its commit started, if anything
            var decided = Wait(deciding.Decided, out _);
            StartOnCommitOf(null);
            if (!decided)
            {
                return false;
            }

            if (_publishing is { } before)
            {
                if (!Finish(consumer, before, identity, out _))
                {
                    return false;
                }

                _publishing = null;
                stored = true;
            }

            _publishing = deciding;
            _deciding = _started;
            _started = null;
            if (_deciding is not null)
            {
                return true;
            }

            // What arrived while it was in the database joins the next batch.
            Poll(consumer, maxBatchSize, TimeSpan.Zero);
        }

        if (_next.Count > 0)
        {
            // Started on this thread rather than handed to the pool: the batch's statements are built and sent at once,
            // where a hand-off waited 1–3 ms for a pool thread on a busy machine while PostgreSQL had nothing to do.
            _deciding = StartNext(identity, _publishing?.Published, cancellationToken);
        }
        else if (_publishing is { } last)
        {
            if (!Finish(consumer, last, identity, out _))
            {
                return false;
            }

            _publishing = null;
            stored = true;
        }

        return true;
    }

    /// <summary>
    /// Sends the batch in hand to the database; its decisions are published after <paramref name="before"/>'s. Once it
    /// commits, the batch in hand by then may follow at once (<see cref="StartOnCommitOf"/>).
    /// </summary>
    private InFlight StartNext(ConsumerIdentity identity, Task? before, CancellationToken cancellationToken)
    {
        var batch = _next;
        _next = new ReadBatch(capacity: batch.Count); // the next is likely of the same size
        var decided = processor.DecideAsync(batch, identity, cancellationToken);
        var inFlight = new InFlight(batch, decided, PublishAfterAsync(decided, before));
        inFlight.HandedOn = decided.ContinueWith(
            d =>
            {
                if (d.IsCompletedSuccessfully)
                {
                    StartNextOnCommit(inFlight, identity, cancellationToken);
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        return inFlight;
    }

    /// <summary>
    /// Which batch's commit may start the batch in hand, if any. Set only while the loop waits for that commit, so that
    /// nothing else touches the batch in hand, the batches in flight or the consumer meanwhile; and by batch, since the
    /// completion of one the loop has stopped waiting for may still be on its way.
    /// </summary>
    private void StartOnCommitOf(InFlight? deciding)
    {
        lock (_handOff)
        {
            _startOnCommitOf = deciding;
        }
    }

    /// <summary>Runs on the thread that completed <paramref name="committed"/>'s decision, when it succeeded.</summary>
    private void StartNextOnCommit(InFlight committed, ConsumerIdentity identity, CancellationToken cancellationToken)
    {
        lock (_handOff)
        {
            if (ReferenceEquals(_startOnCommitOf, committed))
            {
                _startOnCommitOf = null;
                _started = StartNext(identity, committed.Published, cancellationToken);
            }
        }
    }

    /// <summary>
    /// Publishes a batch's decisions once the batch before it has had its own acknowledged, so that one policy's
    /// decisions reach <c>coupon-decisions</c> in the order of its requests; when the batch before failed, this one
    /// publishes nothing and fails with it.
    /// </summary>
    private async Task<DecidedBatch> PublishAfterAsync(Task<DecidedBatch> deciding, Task? before)
    {
        // Then on a thread of the pool: the thread that completed the decision sends the next batch's statements first
        // (StartNextOnCommit). With ConfigureAwaitOptions.ForceYielding instead, the decisions were still produced on that
        // thread, and the next batch's statements left 2–3 ms later (timed per batch) while PostgreSQL had nothing to do.
        var decided = await deciding;
        await Task.Yield();
        if (before is not null)
        {
            await before;
        }

        await processor.PublishAsync(decided);
        return decided;
    }

    /// <summary>
    /// Waits for a batch's decisions to be acknowledged, then stores its offsets; its telemetry is written once the next
    /// batch is on its way (<see cref="RecordCompleted"/>). False, nothing stored, when it failed.
    /// </summary>
    private bool Finish(IConsumer<byte[]?, byte[]?> consumer, InFlight inFlight, ConsumerIdentity identity, [NotNullWhen(false)] out Exception? failure)
    {
        if (!Wait(inFlight.Published, out failure))
        {
            return false;
        }

        StoreOffsets(consumer, inFlight.Batch.Messages, identity);
        _decided.Enqueue(inFlight.Published.Result);
        return true;
    }

    /// <summary>
    /// Waits for the batches in flight, the older first, and stores the offsets of each whose decisions were
    /// acknowledged, up to the first that failed: the batches from that one on are returned, in order, with why it
    /// failed. Nothing of them runs on afterwards.
    /// </summary>
    private (List<ConsumeResult<byte[]?, byte[]?>> Unstored, Exception? Failure) Settle(IConsumer<byte[]?, byte[]?> consumer, ConsumerIdentity identity)
    {
        var unstored = new List<ConsumeResult<byte[]?, byte[]?>>();
        Exception? failure = null;
        foreach (var inFlight in new[] { _publishing, _deciding, _started })
        {
            if (inFlight is null || (failure is null && Finish(consumer, inFlight, identity, out failure)))
            {
                continue;
            }

            // After a batch that failed, one that succeeded in the database has published nothing: it is read again too.
            Wait(inFlight.Published, out _);
            unstored.AddRange(inFlight.Batch.Messages);
        }

        _publishing = null;
        _deciding = null;
        _started = null;
        return (unstored, failure);
    }

    /// <summary>Waits for a step of a batch: false on a transient failure or cancellation; any other failure is thrown.</summary>
    private static bool Wait(Task step, [NotNullWhen(false)] out Exception? failure)
    {
        try
        {
            step.GetAwaiter().GetResult();
            failure = null;
            return true;
        }
        catch (Exception e) when (TransientFailures.IsTransient(e) || e is OperationCanceledException)
        {
            failure = e;
            return false;
        }
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
    /// Partitions are being taken away (still this member's until the handler returns). The batches in flight are
    /// finished first and their offsets stored, so that the next owner starts after them; the batch being read after them
    /// is dropped, and partitions this member keeps are set back to read it again. Had a batch in flight failed, its
    /// kept partitions (and those of the batch after it) are set back too, and the next owner of the others reads them
    /// from their committed offsets.
    /// </summary>
    private void Forget(IConsumer<byte[]?, byte[]?> consumer, ConsumerIdentity identity, string how, IEnumerable<TopicPartition> partitions)
    {
        var list = partitions.ToList();
        var kept = consumer.Assignment.Except(list).ToList();
        var (unstored, failure) = Settle(consumer, identity);
        if (failure is not null)
        {
            LogFailedAtRebalance(failure, unstored.Count);
        }

        Rewind(consumer, unstored.Concat(_next.Messages), kept);
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

    [LoggerMessage(LogLevel.Warning, "A batch failed on a transient error; reading it and what followed it ({Count} message(s)) again in {Delay}")]
    private partial void LogRetrying(Exception exception, int count, TimeSpan delay);

    [LoggerMessage(LogLevel.Warning, "A batch failed while partitions were taken away; it and what followed it ({Count} message(s)) are read again from where it began")]
    private partial void LogFailedAtRebalance(Exception exception, int count);

    [LoggerMessage(LogLevel.Warning, "Could not rewind partition {Partition}")]
    private partial void LogRewindFailed(Exception exception, int partition);

    [LoggerMessage(LogLevel.Critical, "The consume loop stopped on an unexpected error")]
    private partial void LogConsumerFailed(Exception exception);

    [LoggerMessage(LogLevel.Information, "Left the consumer group")]
    private partial void LogStopped();

    /// <summary>
    /// A batch handed to the engine: its decision, then its decisions' publishing, under way; and
    /// <see cref="HandedOn"/>, complete once its decision is and the batch its commit may start has been started.
    /// </summary>
    private sealed record InFlight(ReadBatch Batch, Task<DecidedBatch> Decided, Task<DecidedBatch> Published)
    {
        public Task HandedOn { get; set; } = Task.CompletedTask;
    }
}
