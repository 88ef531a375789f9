using System.Diagnostics;
using CouponAspire.Issuance.Data;
using CouponAspire.Issuance.Engine;
using CouponAspire.LocalInfrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace CouponAspire.Benchmarks;

internal sealed record EngineBenchmarkSettings(int Requests, int BatchSize, int Rounds, string? Connection);

/// <summary>
/// Runs one hot policy's request stream through each strategy, on a fresh database each time, alternating the
/// strategies round by round so that both see the same machine conditions, and checks that they decide every
/// request the same way.
/// </summary>
internal static class EngineBenchmark
{
    public static async Task<int> RunAsync(EngineBenchmarkSettings settings, CancellationToken cancellationToken)
    {
        var stream = HotPolicyStream.Create(settings.Requests, seed: 7);
        Console.WriteLine($"Stream: {stream.Requests.Count:N0} requests for one policy of {stream.Quantity:N0} coupons from {stream.DistinctUsers:N0} distinct users; batches of {settings.BatchSize}.");

        await using var server = settings.Connection is null ? await TemporaryPostgresServer.StartNewAsync(durable: true, cancellationToken: cancellationToken) : null;
        var serverConnection = settings.Connection ?? server!.ConnectionString();
        Console.WriteLine(server is null ? "PostgreSQL: the given server." : "PostgreSQL: a throwaway server with default durability (fsync and synchronous commit on).");

        var rates = Enum.GetValues<IssuanceStrategy>().ToDictionary(s => s, _ => new List<double>());
        IssuanceOutcome[] agreed = [];
        for (var round = 1; round <= settings.Rounds; round++)
        {
            var order = round % 2 == 1 ? new[] { IssuanceStrategy.Batched, IssuanceStrategy.PerMessage } : [IssuanceStrategy.PerMessage, IssuanceStrategy.Batched];
            var outcomes = new Dictionary<IssuanceStrategy, IssuanceOutcome[]>();
            foreach (var strategy in order)
            {
                var (elapsed, decided) = await RunOnceAsync(serverConnection, strategy, stream, settings.BatchSize, cancellationToken);
                outcomes[strategy] = decided;
                var rate = stream.Requests.Count / elapsed.TotalSeconds;
                rates[strategy].Add(rate);
                Console.WriteLine($"round {round}: {strategy,-10} {rate,12:N0} decisions/s ({elapsed.TotalMilliseconds:N0} ms)");
            }

            var mismatch = Enumerable.Range(0, stream.Requests.Count).FirstOrDefault(i => outcomes[IssuanceStrategy.Batched][i] != outcomes[IssuanceStrategy.PerMessage][i], -1);
            if (mismatch >= 0)
            {
                Console.Error.WriteLine($"The strategies disagree at request #{mismatch}: Batched {outcomes[IssuanceStrategy.Batched][mismatch]}, PerMessage {outcomes[IssuanceStrategy.PerMessage][mismatch]}.");
                return 1;
            }

            agreed = outcomes[IssuanceStrategy.Batched];
            var issued = agreed.Count(o => o == IssuanceOutcome.Issued);
            if (issued != Math.Min(stream.Quantity, stream.DistinctUsers))
            {
                Console.Error.WriteLine($"Issued {issued}, expected {Math.Min(stream.Quantity, stream.DistinctUsers)}.");
                return 1;
            }
        }

        var batched = Statistics.Median(rates[IssuanceStrategy.Batched]);
        var perMessage = Statistics.Median(rates[IssuanceStrategy.PerMessage]);
        Console.WriteLine("Outcomes identical in every round: " + string.Join(", ", agreed.CountBy(o => o).Select(p => $"{p.Key} {p.Value:N0}")));
        Console.WriteLine($"median Batched:    {batched,12:N0} decisions/s");
        Console.WriteLine($"median PerMessage: {perMessage,12:N0} decisions/s");
        Console.WriteLine($"ratio batched/per-message: {batched / perMessage:F1}");
        return 0;
    }

    private static async Task<(TimeSpan Elapsed, IssuanceOutcome[] Outcomes)> RunOnceAsync(
        string serverConnection, IssuanceStrategy strategy, HotPolicyStream stream, int batchSize, CancellationToken cancellationToken)
    {
        await using var database = await HotPolicyDatabase.CreateAsync(serverConnection, $"bench_{strategy.ToString().ToLowerInvariant()}", stream, cancellationToken);
        var engine = IssuanceEngineRegistration.Create(strategy, database.DataSource, TimeProvider.System);
        var outcomes = new List<IssuanceOutcome>(stream.Requests.Count);
        var clock = Stopwatch.StartNew();
        foreach (var batch in stream.Requests.Chunk(batchSize))
        {
            var decisions = await engine.DecideAsync(batch, cancellationToken);
            outcomes.AddRange(decisions.Select(d => d.Outcome));
        }

        clock.Stop();
        return (clock.Elapsed, outcomes.ToArray());
    }
}
