using System.Diagnostics;
using Confluent.Kafka;
using CouponAspire.Consumer.Consuming;
using CouponAspire.Consumer.Issuance;
using CouponAspire.Api.Requests;
using CouponAspire.Contracts.Events;
using CouponAspire.Data;
using CouponAspire.LocalInfrastructure;
using CouponAspire.Kafka;
using Npgsql;

namespace CouponAspire.Benchmarks;

internal sealed record EndToEndSettings(int Requests, int PerMessageRequests, int Rounds, IssuanceStrategy? Only = null);

/// <summary>
/// One hot policy end to end: its requests are published to a single-partition <c>coupon-events</c> (as the API
/// publishes them: the API's producer settings, a trace context in each) and decided by one consumer process; the clock
/// runs from the first publish to the last decision committed, so publishing, fetching, decoding, the engine and the
/// offset commits are all inside it. In the same run, the engine alone decides the same stream in the consumer's
/// batches, in a process of its own set up as the consumer's (<see cref="EngineProcess"/>): what the path around the
/// engine costs. Each run gets a fresh mock cluster, database and processes, which decide the stream's warm-up first, off
/// the clock. PerMessage decides a shorter stream (it is twenty to forty times slower).
/// </summary>
internal static class EndToEndBenchmark
{
    private const long UnknownPolicy = 999_999;
    private const string EngineAlone = "engine alone, Batched";

    public static async Task<int> RunAsync(EndToEndSettings settings, CancellationToken cancellationToken)
    {
        var stream = HotPolicyStream.Create(settings.Requests, seed: 7);
        var perMessageStream = HotPolicyStream.Create(settings.PerMessageRequests, seed: 7);
        Console.WriteLine($"Batched: {stream}; PerMessage: {perMessageStream}; 1 partition, 1 consumer process.");
        await using var server = await TemporaryPostgresServer.StartNewAsync(durable: true, cancellationToken: cancellationToken);
        Console.WriteLine("PostgreSQL: a throwaway server with default durability; Kafka: librdkafka's mock cluster (fetch.wait.max.ms 10).");
        var serverConnection = server.ConnectionString();

        if (settings.Only is { } only)
        {
            await Comparison.RunAsync([EndToEnd(only, only == IssuanceStrategy.Batched ? stream : perMessageStream, serverConnection)], settings.Rounds, cancellationToken);
            return 0;
        }

        var medians = await Comparison.RunAsync(
            [
                EngineProcess.Engine(IssuanceStrategy.Batched, stream, serverConnection, new CouponConsumerOptions().MaxBatchSize, EngineAlone),
                EndToEnd(IssuanceStrategy.Batched, stream, serverConnection),
                EndToEnd(IssuanceStrategy.PerMessage, perMessageStream, serverConnection),
            ],
            settings.Rounds,
            cancellationToken);
        Comparison.PrintRatio(medians, Name(IssuanceStrategy.Batched), EngineAlone);
        Comparison.PrintRatio(medians, Name(IssuanceStrategy.Batched), Name(IssuanceStrategy.PerMessage));
        return 0;
    }

    private static string Name(IssuanceStrategy strategy) => $"end to end, {strategy}";

    private static Variant EndToEnd(IssuanceStrategy strategy, HotPolicyStream stream, string serverConnection) => new(Name(strategy), stream, async (stream, cancellationToken) =>
    {
        await using var database = await HotPolicyDatabase.CreateAsync(serverConnection, $"e2e_{strategy.ToString().ToLowerInvariant()}", stream, cancellationToken);
        using var kafka = LocalKafka.Start(partitions: 1, brokers: 1);
        await using var consumer = await StartConsumerAsync(kafka.BootstrapServers, database.ConnectionString, strategy, cancellationToken);
        var producerConfig = new ProducerConfig { BootstrapServers = kafka.BootstrapServers };
        CouponRequestsProducer.Configure(producerConfig);
        using var producer = new ProducerBuilder<string, byte[]>(producerConfig).Build();

        // The group has joined once a request for a policy that does not exist is decided.
        IssuanceRequest[] joined = [new(Guid.NewGuid().ToString(), UnknownPolicy, 1, 0, 0, DateTimeOffset.UtcNow)];
        await PublishAsync(producer, joined);
        await WaitForLastOutcomeAsync(database.DataSource, UnknownPolicy, joined, TimeSpan.FromSeconds(60), cancellationToken);
        await CheckAllDecidedAsync(database.DataSource, UnknownPolicy, joined, cancellationToken);

        // Off the clock, as the engine alone does: the warm-up, whose first second is the rate of a process just started.
        var warmUp = stream.WarmUp;
        var warmUpStartedAt = DateTimeOffset.UtcNow;
        await PublishAheadAsync(producer, database.DataSource, warmUp.Requests, cancellationToken);
        await WaitForLastOutcomeAsync(database.DataSource, warmUp.Policy, warmUp.Requests, TimeSpan.FromMinutes(10), cancellationToken);
        await CheckAllDecidedAsync(database.DataSource, warmUp.Policy, warmUp.Requests, cancellationToken);
        await Task.Delay(HotPolicyStream.Settle, cancellationToken);

        var clock = Stopwatch.StartNew();
        await PublishAheadAsync(producer, database.DataSource, stream.Requests, cancellationToken);
        var published = clock.Elapsed;
        await WaitForLastOutcomeAsync(database.DataSource, stream.Policy, stream.Requests, TimeSpan.FromMinutes(10), cancellationToken);
        clock.Stop();
        await CheckAllDecidedAsync(database.DataSource, stream.Policy, stream.Requests, cancellationToken);

        await using var latencies = database.DataSource.CreateCommand(
            "SELECT extract(epoch FROM decided_at - requested_at) * 1000 FROM request_outcomes WHERE policy_id = $1").With(stream.Policy);
        var milliseconds = new List<double>(stream.Requests.Count);
        await using (var reader = await latencies.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                milliseconds.Add((double)reader.GetDecimal(0));
            }
        }

        // The consumer stamps each decision with the machine's clock as it makes it.
        await using var firstSecond = database.DataSource.CreateCommand(
            "SELECT count(*) FROM request_outcomes WHERE policy_id = $1 AND decided_at <= $2").With(warmUp.Policy).With(warmUpStartedAt + FirstSecond.Length);
        var decidedInFirstSecond = (int)(long)(await firstSecond.ExecuteScalarAsync(cancellationToken))!;

        // A batch's decisions share its decision time (to the millisecond): how many transactions the stream took.
        await using var transactions = database.DataSource.CreateCommand("SELECT count(DISTINCT decided_at) FROM request_outcomes WHERE policy_id = $1").With(stream.Policy);
        var batches = (long)(await transactions.ExecuteScalarAsync(cancellationToken))!;

        var latency = LatencySummary.Of([.. milliseconds]);
        return new VariantRun(
            clock.Elapsed,
            decidedInFirstSecond,
            await database.OutcomesAsync(stream, cancellationToken),
            $"all acknowledged after {published.TotalMilliseconds:N0} ms (published ahead of the decisions); publish->decided p50 {latency.P50:N0} ms, p99 {latency.P99:N0} ms; {batches:N0} transactions, {stream.Requests.Count / (double)Math.Max(1, batches):N0} requests each");
    });

    private static async Task<ServiceProcess> StartConsumerAsync(string bootstrap, string connectionString, IssuanceStrategy strategy, CancellationToken cancellationToken)
    {
        var url = new Uri($"http://127.0.0.1:{LocalPorts.Free()}");
        var settings = ServiceSettings.For(bootstrap, connectionString, tokens: null, partitions: 1);
        settings["ASPNETCORE_URLS"] = url.ToString();
        settings["Issuance:Strategy"] = strategy.ToString();
        settings["Logging:LogLevel:Default"] = "Warning";
        // While it settles into the group its health reads Degraded now and then: the benchmark waits for healthy itself.
        settings["Logging:LogLevel:Microsoft.Extensions.Diagnostics.HealthChecks"] = "Error";
        var consumer = ServiceProcess.Start("consumer", Path.Combine(AppContext.BaseDirectory, "CouponAspire.Consumer.dll"), settings, line => Console.WriteLine("  " + line));
        await consumer.WaitUntilHealthyAsync(new Uri(url, "/health"), TimeSpan.FromSeconds(60), cancellationToken);
        return consumer;
    }

    /// <summary>
    /// Publishes the stream a few thousand requests ahead of the decisions: the mock cluster keeps 5 MB of a partition
    /// and drops the oldest messages beyond that, so a stream published all at once would lose its head before it was
    /// read. Two chunks ahead is still a backlog the consumer never runs out of: it reads full batches all along.
    /// </summary>
    private static async Task PublishAheadAsync(IProducer<string, byte[]> producer, NpgsqlDataSource dataSource, IReadOnlyList<IssuanceRequest> requests, CancellationToken cancellationToken)
    {
        const int ChunkSize = 5_000;
        var chunks = requests.Chunk(ChunkSize).ToArray();
        for (var i = 0; i < chunks.Length; i++)
        {
            if (i >= 2)
            {
                await WaitForLastOutcomeAsync(dataSource, chunks[i - 2][0].PolicyId, chunks[i - 2], TimeSpan.FromMinutes(10), cancellationToken);
            }

            await PublishAsync(producer, chunks[i]);
        }
    }

    /// <summary>Publishes the requests, each stamped when it is handed to the producer, and waits for every acknowledgement.</summary>
    private static async Task PublishAsync(IProducer<string, byte[]> producer, IReadOnlyList<IssuanceRequest> requests)
    {
        var acknowledged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var remaining = requests.Count;
        foreach (var request in requests)
        {
            // As the API's under a stampede: each in a trace of its own, most of them not sampled.
            var message = new Message<string, byte[]>
            {
                Key = CouponTopics.KeyFor(request.PolicyId),
                Value = CouponRequestedCodec.Serialize(new CouponRequested(request.RequestId, request.PolicyId, request.UserId, DateTimeOffset.UtcNow)),
                Headers = [],
            };
            KafkaTracing.InjectContext(new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.None), message.Headers);
            producer.Produce(CouponTopics.Requests, message, report =>
            {
                if (report.Error.IsError)
                {
                    acknowledged.TrySetException(new KafkaException(report.Error));
                }
                else if (Interlocked.Decrement(ref remaining) == 0)
                {
                    acknowledged.TrySetResult();
                }
            });
        }

        await acknowledged.Task;
    }

    /// <summary>
    /// Waits until the stream's last request is decided. Looking that one row up by its key every few milliseconds costs
    /// the server next to nothing; counting the policy's outcomes as often would be a scan of a growing table beside the
    /// transactions being measured.
    /// </summary>
    private static async Task WaitForLastOutcomeAsync(
        NpgsqlDataSource dataSource, long policyId, IReadOnlyList<IssuanceRequest> requests, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        await using var last = dataSource.CreateCommand("SELECT EXISTS (SELECT FROM request_outcomes WHERE request_id = $1)").With(requests[^1].RequestId);
        while (!(bool)(await last.ExecuteScalarAsync(cancellationToken))!)
        {
            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"The last of {requests.Count} requests for policy {policyId} was not decided after {timeout}.");
            }

            await Task.Delay(5, cancellationToken);
        }
    }

    /// <summary>
    /// Once the last request is decided, every request is: the partition is decided in offset order, a batch committed
    /// before the next is read. Checked after the clock has stopped.
    /// </summary>
    private static async Task CheckAllDecidedAsync(NpgsqlDataSource dataSource, long policyId, IReadOnlyList<IssuanceRequest> requests, CancellationToken cancellationToken)
    {
        await using var count = dataSource.CreateCommand("SELECT count(*) FROM request_outcomes WHERE policy_id = $1").With(policyId);
        var decided = (long)(await count.ExecuteScalarAsync(cancellationToken))!;
        if (decided != requests.Count)
        {
            throw new BenchmarkFailedException($"The last request for policy {policyId} was decided with {decided} of {requests.Count} decided: the partition was not decided in order.");
        }
    }
}
