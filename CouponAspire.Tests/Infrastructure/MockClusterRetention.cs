namespace CouponAspire.Tests.Infrastructure;

/// <summary>
/// librdkafka's mock cluster keeps at most 5 MB of each partition and evicts the oldest messages beyond that (there is no
/// setting for it). A check that reads a topic from its beginning cannot judge what was evicted: a sale too large for
/// the cluster fails here, naming the cause, rather than as messages that seem never to have been written.
/// </summary>
public static class MockClusterRetention
{
    public static void AssertWhole(string topic, IReadOnlyDictionary<int, long> logStarts)
    {
        var evicted = logStarts.Where(p => p.Value > 0).Select(p => $"partition {p.Key} starts at offset {p.Value}").ToList();
        evicted.ShouldBeEmpty(
            $"{topic} no longer holds its first messages: the mock cluster evicts beyond 5 MB a partition; keep the test's sale smaller");
    }
}
