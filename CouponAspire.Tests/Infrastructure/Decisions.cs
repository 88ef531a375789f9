using System.Text.Json;
using CouponAspire.Contracts.Events;

namespace CouponAspire.Tests.Infrastructure;

/// <summary>Waiting for accepted requests to be decided, and saying where the undecided ones are when they are not.</summary>
public static class Decisions
{
    public static async Task WaitUntilDecidedAsync(TestDatabase database, string kafkaBootstrapServers, IReadOnlyCollection<string> requestIds, TimeSpan? timeout = null)
    {
        var ids = requestIds.ToArray();
        long decided = 0;
        await Eventually.UntilAsync(
            async () => (decided = await database.ScalarAsync<long>("SELECT count(*) FROM request_outcomes WHERE request_id = ANY($1)", ids)) >= ids.Length,
            $"{ids.Length} accepted requests to be decided",
            timeout ?? TimeSpan.FromSeconds(60),
            async () => $"{decided} were. {await DescribeUndecidedAsync(database, kafkaBootstrapServers, ids)}");
    }

    /// <summary>Where the undecided requests are in the log, against what was decided there: for a failing test's message.</summary>
    private static async Task<string> DescribeUndecidedAsync(TestDatabase database, string kafkaBootstrapServers, string[] ids)
    {
        var decided = (await database.ListAsync<string>("SELECT request_id FROM request_outcomes WHERE request_id = ANY($1)", ids)).ToHashSet();
        var wanted = ids.Where(id => !decided.Contains(id)).ToHashSet();

        var lines = KafkaLog.ReadAll(kafkaBootstrapServers, CouponTopics.Requests).GroupBy(m => m.Partition.Value).Select(partition =>
        {
            var undecided = partition.Where(m => wanted.Contains(JsonSerializer.Deserialize<CouponRequested>(m.Message.Value, JsonSerializerOptions.Web)!.RequestId))
                .Select(m => m.Offset.Value).ToList();
            return $"partition {partition.Key}: {partition.Count()} messages, undecided offsets {(undecided.Count == 0 ? "none" : $"{undecided.Min()}..{undecided.Max()} ({undecided.Count})")}";
        });
        return string.Join("; ", lines) + ".";
    }
}
