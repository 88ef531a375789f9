namespace CouponAspire.Tests.Infrastructure;

/// <summary>
/// One system without consumers (nothing gets decided) and with the API on a real Kestrel server, shared by the tests
/// of a class that only talk HTTP and look at what was written: they run one after another within their class, and each
/// compares what was written before and after it, so that a system started per test would cost each test its start and
/// nothing more.
/// </summary>
public sealed class SharedApiSystem(PostgresFixture postgres) : IAsyncLifetime
{
    public CouponSystem System { get; private set; } = null!;

    public async ValueTask InitializeAsync() => System = await CouponSystem.StartAsync(postgres, consumers: 0, kestrel: true);

    public ValueTask DisposeAsync() => System.DisposeAsync();

    /// <summary>What the system has written so far: policies, outcomes, and requests on <c>coupon-events</c>.</summary>
    public async Task<(long Policies, long Outcomes, long Published)> WrittenAsync() => (
        await System.Database.ScalarAsync<long>("SELECT count(*) FROM coupon_policies"),
        await System.Database.ScalarAsync<long>("SELECT count(*) FROM request_outcomes"),
        Enumerable.Range(0, System.Partitions).Sum(p => KafkaLog.End(System.Kafka.BootstrapServers, CouponTopics.Requests, p)));
}
