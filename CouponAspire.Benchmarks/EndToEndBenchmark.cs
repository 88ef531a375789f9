using System.Diagnostics;
using System.Globalization;
using Confluent.Kafka;
using CouponAspire.Issuance.Contracts;
using CouponAspire.Issuance.Data;
using CouponAspire.Issuance.Engine;
using CouponAspire.LocalInfrastructure;
using Npgsql;

namespace CouponAspire.Benchmarks;

internal sealed record EndToEndSettings(int Requests, int Rounds, IssuanceStrategy? Only = null);

/// <summary>
/// One hot policy end to end: its requests are published to a single-partition <c>coupon-events</c> (as the API
/// publishes them: idempotent, acks=all) and decided by one consumer process, with each strategy in turn. The time
/// runs from the first publish to the last decision in the database, so publishing, fetching, decoding, the engine
/// and the offset commits are all inside it. Each run gets a fresh mock cluster and database; strategies alternate
/// round by round.
/// </summary>
internal static class EndToEndBenchmark
{
    private const long WarmUpPolicy = 999_999;

    public static async Task<int> RunAsync(EndToEndSettings settings, CancellationToken cancellationToken)
    {
        var stream = HotPolicyStream.Create(settings.Requests, seed: 7);
        Console.WriteLine($"Stream: {stream.Requests.Count:N0} requests for one policy of {stream.Quantity:N0} coupons from {stream.DistinctUsers:N0} distinct users; 1 partition, 1 consumer process.");
        await using var server = await TemporaryPostgresServer.StartNewAsync(durable: true, cancellationToken: cancellationToken);
        Console.WriteLine("PostgreSQL: a throwaway server with default durability; Kafka: librdkafka's mock cluster (fetch.wait.max.ms 10).");

        var rates = Enum.GetValues<IssuanceStrategy>().ToDictionary(s => s, _ => new List<double>());
        var p99s = Enum.GetValues<IssuanceStrategy>().ToDictionary(s => s, _ => new List<double>());
        for (var round = 1; round <= settings.Rounds; round++)
        {
            var order = settings.Only is { } only ? [only]
                : round % 2 == 1 ? new[] { IssuanceStrategy.Batched, IssuanceStrategy.PerMessage } : [IssuanceStrategy.PerMessage, IssuanceStrategy.Batched];
            var outcomes = new Dictionary<IssuanceStrategy, Dictionary<Guid, string>>();
            foreach (var strategy in order)
            {
                var run = await RunOnceAsync(server.ConnectionString(), strategy, stream, cancellationToken);
                outcomes[strategy] = run.Outcomes;
                var rate = stream.Requests.Count / run.Elapsed.TotalSeconds;
                rates[strategy].Add(rate);
                p99s[strategy].Add(run.P99Milliseconds);
                Console.WriteLine($"round {round}: {strategy,-10} {rate,10:N0} decisions/s ({run.Elapsed.TotalMilliseconds:N0} ms from first publish to last decision, all acknowledged after {run.Published.TotalMilliseconds:N0} ms; publish->decided p50 {run.P50Milliseconds:N0} ms, p99 {run.P99Milliseconds:N0} ms)");
            }

            if (settings.Only is not null)
            {
                continue;
            }

            var batchedOutcomes = outcomes[IssuanceStrategy.Batched];
            var disagreement = stream.Requests.FirstOrDefault(r => batchedOutcomes[r.RequestId] != outcomes[IssuanceStrategy.PerMessage][r.RequestId]);
            if (disagreement is not null)
            {
                Console.Error.WriteLine($"The strategies disagree on request {disagreement.RequestId}: Batched {batchedOutcomes[disagreement.RequestId]}, PerMessage {outcomes[IssuanceStrategy.PerMessage][disagreement.RequestId]}.");
                return 1;
            }

            var issued = batchedOutcomes.Values.Count(o => o == nameof(IssuanceOutcome.Issued));
            if (issued != Math.Min(stream.Quantity, stream.DistinctUsers))
            {
                Console.Error.WriteLine($"Issued {issued}, expected {Math.Min(stream.Quantity, stream.DistinctUsers)}.");
                return 1;
            }
        }

        if (settings.Only is { } single)
        {
            Console.WriteLine($"median {single}: {Statistics.Median(rates[single]),10:N0} decisions/s (publish->decided p99 {Statistics.Median(p99s[single]):N0} ms)");
            return 0;
        }

        var batched = Statistics.Median(rates[IssuanceStrategy.Batched]);
        var perMessage = Statistics.Median(rates[IssuanceStrategy.PerMessage]);
        Console.WriteLine("Outcomes identical in every round.");
        Console.WriteLine($"median Batched:    {batched,10:N0} decisions/s (publish->decided p99 {Statistics.Median(p99s[IssuanceStrategy.Batched]):N0} ms)");
        Console.WriteLine($"median PerMessage: {perMessage,10:N0} decisions/s (publish->decided p99 {Statistics.Median(p99s[IssuanceStrategy.PerMessage]):N0} ms)");
        Console.WriteLine($"end-to-end ratio batched/per-message: {batched / perMessage:F1}");
        return 0;
    }

    private sealed record RunResult(TimeSpan Elapsed, TimeSpan Published, double P50Milliseconds, double P99Milliseconds, Dictionary<Guid, string> Outcomes);

    private static async Task<RunResult> RunOnceAsync(string serverConnection, IssuanceStrategy strategy, HotPolicyStream stream, CancellationToken cancellationToken)
    {
        await using var database = await HotPolicyDatabase.CreateAsync(serverConnection, $"e2e_{strategy.ToString().ToLowerInvariant()}", stream, cancellationToken);
        var dataSource = database.DataSource;
        using var kafka = MockKafkaCluster.Start(brokers: 1);
        kafka.CreateTopic(CouponTopics.Requests, 1);
        kafka.CreateTopic(CouponTopics.DeadLetters, 1);
        await using var consumer = await StartConsumerAsync(kafka.BootstrapServers, database.ConnectionString, strategy, cancellationToken);
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig
        {
            BootstrapServers = kafka.BootstrapServers,
            Acks = Acks.All,
            EnableIdempotence = true,
            LingerMs = 2,
        }).Build();

        // The group has joined and the process is warm once a request for a policy that does not exist is decided.
        await PublishAsync(producer, [new IssuanceRequest(Guid.NewGuid(), WarmUpPolicy, 1, 0, 0, DateTimeOffset.UtcNow)]);
        await WaitForOutcomesAsync(dataSource, WarmUpPolicy, 1, TimeSpan.FromSeconds(60), cancellationToken);

        var clock = Stopwatch.StartNew();
        await PublishAsync(producer, stream.Requests);
        var published = clock.Elapsed;
        await WaitForOutcomesAsync(dataSource, 1, stream.Requests.Count, TimeSpan.FromMinutes(10), cancellationToken);
        clock.Stop();

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            """
            SELECT request_id, outcome, extract(epoch FROM decided_at - requested_at) * 1000
            FROM request_outcomes WHERE policy_id = 1
            """, connection);
        var outcomes = new Dictionary<Guid, string>(stream.Requests.Count);
        var latencies = new List<double>(stream.Requests.Count);
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                outcomes[reader.GetGuid(0)] = reader.GetString(1);
                latencies.Add((double)reader.GetDecimal(2));
            }
        }

        return new RunResult(clock.Elapsed, published, Statistics.Percentile(latencies, 0.50), Statistics.Percentile(latencies, 0.99), outcomes);
    }

    private static async Task<ServiceProcess> StartConsumerAsync(string bootstrap, string connectionString, IssuanceStrategy strategy, CancellationToken cancellationToken)
    {
        var url = new Uri($"http://127.0.0.1:{LocalPorts.Free()}");
        var consumer = ServiceProcess.Start(
            "consumer",
            LocalPorts.ServiceAssembly(typeof(EndToEndBenchmark).Assembly, "ConsumerAssembly"),
            new Dictionary<string, string?>(MockKafkaCluster.ConsumerSettings(fetchWaitMaxMs: 10))
            {
                ["ASPNETCORE_URLS"] = url.ToString(),
                ["ConnectionStrings:kafka"] = bootstrap,
                ["ConnectionStrings:coupondb"] = connectionString,
                ["CouponEvents:Partitions"] = "1",
                ["Issuance:Strategy"] = strategy.ToString(),
                ["Logging:LogLevel:Default"] = "Warning",
            },
            line => Console.WriteLine("  " + line));
        await consumer.WaitUntilHealthyAsync(new Uri(url, "/health"), TimeSpan.FromSeconds(60), cancellationToken);
        return consumer;
    }

    /// <summary>Publishes the requests, each stamped when it is handed to the producer, and waits for every acknowledgement.</summary>
    private static async Task PublishAsync(IProducer<string, byte[]> producer, IReadOnlyList<IssuanceRequest> requests)
    {
        var acknowledged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var remaining = requests.Count;
        foreach (var request in requests)
        {
            var message = new Message<string, byte[]>
            {
                Key = CouponRequestedCodec.KeyFor(request.PolicyId),
                Value = CouponRequestedCodec.Serialize(new CouponRequested(request.RequestId, request.PolicyId, request.UserId, DateTimeOffset.UtcNow)),
            };
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

    private static async Task WaitForOutcomesAsync(NpgsqlDataSource dataSource, long policyId, int expected, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        await using var command = dataSource.CreateCommand("SELECT count(*) FROM request_outcomes WHERE policy_id = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = policyId });
        while (true)
        {
            var decided = (long)(await command.ExecuteScalarAsync(cancellationToken))!;
            if (decided >= expected)
            {
                return;
            }

            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"{decided.ToString(CultureInfo.InvariantCulture)} of {expected} requests for policy {policyId} decided after {timeout}.");
            }

            await Task.Delay(5, cancellationToken);
        }
    }
}
