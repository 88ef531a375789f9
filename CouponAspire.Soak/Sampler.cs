using System.Globalization;
using Confluent.Kafka;
using CouponAspire.Contracts.Events;
using CouponAspire.Ordering;
using Npgsql;

namespace CouponAspire.Soak;

/// <summary>One process's memory at a sample.</summary>
internal sealed record ProcessMemory(string Label, string Service, long WorkingSet, long? GcHeap);

/// <summary>
/// What the system did in the ten seconds before <see cref="At"/>: requests decided a second, accepted→decided p99 of
/// those (from the stored <c>requested_at</c>/<c>decided_at</c>), the consumer group's lag (log end minus committed
/// offsets, summed over partitions), and each process's memory.
/// </summary>
internal sealed record Sample(TimeSpan At, double DecidedPerSecond, double? P99Ms, long Lag, IReadOnlyList<ProcessMemory> Memory);

/// <summary>Samples the running system every <see cref="Interval"/> from PostgreSQL, Kafka and <c>/proc</c>.</summary>
internal sealed class Sampler(string database, string kafka) : IDisposable
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    private readonly RuntimeCounters _counters = new(TimeSpan.FromSeconds(5));
    private readonly IAdminClient _admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = kafka }).Build();

    public List<Sample> Samples { get; } = [];

    public async Task RunAsync(DateTimeOffset start, CancellationToken cancellationToken)
    {
        await using var dataSource = NpgsqlDataSource.Create(database);
        using var timer = new PeriodicTimer(Interval);
        var from = DateTimeOffset.UtcNow;
        _counters.Watch(SystemProcesses.Find());
        while (await NextTickAsync(timer, cancellationToken))
        {
            var to = DateTimeOffset.UtcNow;
            var processes = SystemProcesses.Find();
            _counters.Watch(processes);
            try
            {
                var (decided, p99) = await DecisionsAsync(dataSource, from, to, cancellationToken);
                var lag = await LagAsync();
                var memory = processes
                    .Select(p => (p, SystemProcesses.WorkingSet(p.Pid)))
                    .Where(m => m.Item2 is not null)
                    .Select(m => new ProcessMemory(m.p.Label, m.p.Service, m.Item2!.Value, _counters.GcHeap(m.p.Pid)))
                    .ToList();
                lock (Samples)
                {
                    Samples.Add(new Sample(to - start, decided / (to - from).TotalSeconds, p99, lag, memory));
                }

                from = to;
            }
            catch (Exception e) when (e is NpgsqlException or KafkaException or TimeoutException)
            {
                // A sample lost to a restart in progress: the next one covers its window.
                await Console.Error.WriteLineAsync($"sample skipped: {e.Message}");
            }
        }
    }

    private static async Task<bool> NextTickAsync(PeriodicTimer timer, CancellationToken cancellationToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public List<Sample> Snapshot()
    {
        lock (Samples)
        {
            return [.. Samples];
        }
    }

    private static async Task<(long Decided, double? P99Ms)> DecisionsAsync(NpgsqlDataSource dataSource, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT count(*), percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM decided_at - requested_at) * 1000)
            FROM request_outcomes WHERE decided_at > $1 AND decided_at <= $2 AND outcome <> 'Withdrawn'
            """);
        command.Parameters.Add(new() { Value = from });
        command.Parameters.Add(new() { Value = to });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetDouble(1));
    }

    private async Task<long> LagAsync()
    {
        var ends = TopicLogs.Ends(kafka);
        var committed = await _admin.ListConsumerGroupOffsetsAsync(
            [new ConsumerGroupTopicPartitions(CouponTopics.ConsumerGroup, [.. ends.Keys.Select(p => new TopicPartition(CouponTopics.Requests, p))])]);
        var lag = 0L;
        foreach (var (partition, end) in ends)
        {
            var offset = committed.SelectMany(g => g.Partitions)
                .FirstOrDefault(p => p.Topic == CouponTopics.Requests && p.Partition.Value == partition)?.Offset.Value ?? 0;
            lag += Math.Max(0, end - Math.Max(offset, 0));
        }

        return lag;
    }

    /// <summary>The samples as CSV, one row per sample and process: <c>seconds,decided_per_second,p99_ms,lag,process,working_set_mb,gc_heap_mb</c>.</summary>
    public static IEnumerable<string> Csv(IEnumerable<Sample> samples)
    {
        yield return "seconds,decided_per_second,p99_ms,lag,process,working_set_mb,gc_heap_mb";
        foreach (var sample in samples)
        {
            foreach (var memory in sample.Memory)
            {
                yield return string.Join(',',
                    sample.At.TotalSeconds.ToString("F0", CultureInfo.InvariantCulture),
                    sample.DecidedPerSecond.ToString("F0", CultureInfo.InvariantCulture),
                    sample.P99Ms?.ToString("F0", CultureInfo.InvariantCulture) ?? "",
                    sample.Lag.ToString(CultureInfo.InvariantCulture),
                    memory.Label,
                    (memory.WorkingSet / 1048576.0).ToString("F1", CultureInfo.InvariantCulture),
                    memory.GcHeap is { } heap ? (heap / 1048576.0).ToString("F1", CultureInfo.InvariantCulture) : "");
            }
        }
    }

    public void Dispose()
    {
        _counters.Dispose();
        _admin.Dispose();
    }
}
