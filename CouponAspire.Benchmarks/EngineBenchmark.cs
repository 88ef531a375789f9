using System.Diagnostics;
using CouponAspire.Consumer.Issuance;
using CouponAspire.Data;
using CouponAspire.LocalInfrastructure;

namespace CouponAspire.Benchmarks;

internal sealed record EngineBenchmarkSettings(int Requests, int PerMessageRequests, int BatchSize, int Rounds, string? Connection);

/// <summary>
/// The issuance engine alone, no Kafka: one hot policy's stream decided in batches by each strategy, on a durable
/// PostgreSQL. Batched against the seed's per-message algorithm, which decides a shorter stream (it is twenty to forty
/// times slower; its steady state shows within seconds all the same).
/// </summary>
internal static class EngineBenchmark
{
    public static async Task<int> RunAsync(EngineBenchmarkSettings settings, CancellationToken cancellationToken)
    {
        var stream = HotPolicyStream.Create(settings.Requests, seed: 7);
        var perMessageStream = HotPolicyStream.Create(settings.PerMessageRequests, seed: 7);
        Console.WriteLine($"Batched: {stream}; PerMessage: {perMessageStream}; batches of {settings.BatchSize}.");
        await using var server = settings.Connection is null ? await TemporaryPostgresServer.StartNewAsync(durable: true, cancellationToken: cancellationToken) : null;
        var serverConnection = settings.Connection ?? server!.ConnectionString();
        Console.WriteLine(server is null ? "PostgreSQL: the given server." : "PostgreSQL: a throwaway server with default durability (fsync and synchronous commit on).");

        var medians = await Comparison.RunAsync(
            [Engine(IssuanceStrategy.Batched, stream, serverConnection, settings.BatchSize), Engine(IssuanceStrategy.PerMessage, perMessageStream, serverConnection, settings.BatchSize)],
            settings.Rounds,
            cancellationToken);
        Comparison.PrintRatio(medians, nameof(IssuanceStrategy.Batched), nameof(IssuanceStrategy.PerMessage));
        return 0;
    }

    /// <summary>The engine deciding the stream batch after batch, as the consumer hands batches to it.</summary>
    private static Variant Engine(IssuanceStrategy strategy, HotPolicyStream stream, string serverConnection, int batchSize) =>
        new(strategy.ToString(), stream, async (stream, cancellationToken) =>
        {
            await using var database = await HotPolicyDatabase.CreateAsync(serverConnection, $"bench_{strategy.ToString().ToLowerInvariant()}", stream, cancellationToken);
            await using var engine = IssuanceEngineRegistration.Create(strategy, database.DataSource, TimeProvider.System);
            var firstSecond = new FirstSecond();
            foreach (var batch in stream.WarmUp.Requests.Chunk(batchSize))
            {
                await engine.DecideAsync(batch, cancellationToken);
                firstSecond.Add(batch.Length);
            }

            var outcomes = new List<IssuanceOutcome>(stream.Requests.Count);
            var clock = Stopwatch.StartNew();
            foreach (var batch in stream.Requests.Chunk(batchSize))
            {
                outcomes.AddRange((await engine.DecideAsync(batch, cancellationToken)).Select(d => d.Outcome));
            }

            return new VariantRun(clock.Elapsed, firstSecond.Decided, outcomes);
        });
}
