using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using CouponAspire.Api.Policies;
using CouponAspire.Kafka;

namespace CouponAspire.Api.Decisions;

/// <summary>
/// Follows <c>coupon-decisions</c>: every partition, from the log's end as of when it starts, with no group to join or
/// rebalance, so every API instance reads every decision. Each one is kept (<see cref="RecentDecisions"/>), wakes the
/// clients waiting for it, lowers its policy's counter for the sale pages (<see cref="PolicyCounters"/>), and tells the
/// sold-out gate how much of the policy is left. A decision that cannot be read is logged and skipped: it is someone
/// else's message, and the decision it may have been is still in PostgreSQL.
/// </summary>
internal sealed partial class DecisionFollower(
    KafkaConsumerFactory<byte[]?, byte[]?> factory,
    RecentDecisions decisions,
    PolicyCounters counters,
    PolicyGate gate,
    TimeProvider time,
    ILogger<DecisionFollower> logger) : BackgroundService
{
    private static readonly TimeSpan PollTimeout = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan BrokerTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan EvictionInterval = TimeSpan.FromSeconds(1);

    /// <summary>Polling blocks: the loop runs on a thread of its own rather than holding a pool thread.</summary>
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var loop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        new Thread(() =>
        {
            try
            {
                Follow(stoppingToken);
                loop.SetResult();
            }
            catch (Exception e)
            {
                // The API goes on serving: reads fall back to PostgreSQL, the gate to its refresh.
                LogFollowerFailed(e);
                loop.SetResult();
            }
        })
        {
            IsBackground = true,
            Name = $"{CouponTopics.Decisions} follower",
        }.Start();
        return loop.Task;
    }

    private void Follow(CancellationToken stoppingToken)
    {
        using var consumer = factory.CreateBuilder().Build();
        try
        {
            for (var attempt = 1; !TryStartAtEnd(consumer); attempt++)
            {
                if (stoppingToken.WaitHandle.WaitOne(TimeSpan.FromSeconds(Math.Min(attempt, 5))))
                {
                    return;
                }
            }

            var evictedAt = time.GetTimestamp();
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    if (consumer.Consume(PollTimeout) is { Message: not null } result)
                    {
                        Read(result);
                    }
                }
                catch (ConsumeException e) when (!e.Error.IsFatal)
                {
                    LogConsumeError(e.Error.Code, e.Error.Reason);
                }

                if (time.GetElapsedTime(evictedAt) >= EvictionInterval)
                {
                    decisions.EvictExpired();
                    evictedAt = time.GetTimestamp();
                }
            }
        }
        finally
        {
            decisions.NotFollowing();
            consumer.Close();
        }
    }

    /// <summary>
    /// Assigns every partition at its end as the broker reports it now (asked, rather than left to the client to look up
    /// later: a decision published meanwhile would be missed), and says from when the stream is followed.
    /// </summary>
    private bool TryStartAtEnd(IConsumer<byte[]?, byte[]?> consumer)
    {
        try
        {
            using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
            var topic = admin.GetMetadata(CouponTopics.Decisions, BrokerTimeout).Topics.Single();
            if (topic.Error.IsError || topic.Partitions.Count == 0)
            {
                LogNotFollowing(topic.Error.IsError ? topic.Error.Reason : "it has no partitions");
                return false;
            }

            var ends = topic.Partitions
                .Select(p => new TopicPartition(topic.Topic, p.PartitionId))
                .Select(partition => new TopicPartitionOffset(partition, consumer.QueryWatermarkOffsets(partition, BrokerTimeout).High))
                .ToList();
            consumer.Assign(ends);
            decisions.Following(time.GetUtcNow());
            LogFollowing(topic.Topic, ends.Count);
            return true;
        }
        catch (KafkaException e)
        {
            LogNotFollowing(e.Error.Reason);
            return false;
        }
    }

    private void Read(ConsumeResult<byte[]?, byte[]?> result)
    {
        var key = result.Message.Key is { } keyBytes ? Encoding.UTF8.GetString(keyBytes) : null;
        if (!CouponDecidedCodec.TryDecode(key, result.Message.Value ?? [], out var decided, out var error))
        {
            LogUnreadable(result.Partition.Value, result.Offset.Value, error);
            return;
        }

        // The gate first: a client told of the decision that took the last coupon finds the policy closed already.
        if (decided.RemainingQuantity is { } remaining)
        {
            gate.Observe(decided.PolicyId, remaining);
            counters.Observe(decided.PolicyId, remaining);
        }

        var published = KafkaTracing.ExtractContext(result.Message.Headers);
        var woke = decisions.Add(KnownDecision.Of(decided, published));

        // The decision's delivery to the client waiting for it, in the request's trace when that is sampled.
        if (woke && published.TraceFlags.HasFlag(ActivityTraceFlags.Recorded))
        {
            using var span = KafkaTracing.StartProcess(result, published, consumerGroup: null, clientId: null);
            span?.SetTag("coupon.request_id", decided.RequestId).SetTag("coupon.outcome", decided.Outcome.ToString());
        }
    }

    [LoggerMessage(LogLevel.Information, "Following {Topic}: {Partitions} partitions from their end")]
    private partial void LogFollowing(string topic, int partitions);

    [LoggerMessage(LogLevel.Warning, "Not following coupon-decisions yet ({Reason}): reads of decisions go to PostgreSQL meanwhile")]
    private partial void LogNotFollowing(string reason);

    [LoggerMessage(LogLevel.Warning, "Kafka consume error {Code}: {Reason}")]
    private partial void LogConsumeError(ErrorCode code, string reason);

    [LoggerMessage(LogLevel.Warning, "Skipped coupon-decisions partition {Partition} offset {Offset}: {Reason}")]
    private partial void LogUnreadable(int partition, long offset, string reason);

    [LoggerMessage(LogLevel.Critical, "The decisions follower stopped; reads of decisions go to PostgreSQL")]
    private partial void LogFollowerFailed(Exception exception);
}
