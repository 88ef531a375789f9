using CouponAspire.Contracts.Events;

namespace CouponAspire.Tests.Pipeline;

/// <summary>The sold-out gate: once a policy is exhausted, the API refuses at once and publishes nothing more.</summary>
public sealed class SoldOutGateTests(PostgresFixture postgres)
{
    [Fact]
    public async Task After_the_last_coupon_is_issued_requests_are_refused_with_409_and_nothing_is_published()
    {
        await using var system = await CouponSystem.StartAsync(postgres, partitions: 3, consumers: 1);
        var policy = await system.CreatePolicyAsync(totalQuantity: 3);

        // Until the database says the quantity is used up, every request is taken: any of them could still win.
        var accepted = new List<string>();
        for (var user = 1; user <= 3; user++)
        {
            accepted.Add((await system.RequestAsync(policy, user))!);
        }

        await system.WaitUntilDecidedAsync(accepted);
        var partition = await system.Database.ScalarAsync<int>("SELECT kafka_partition FROM request_outcomes LIMIT 1");
        var logEnd = LogEnd(system, partition);

        // Within the gate's refresh interval (200 ms) every instance refuses.
        HttpResponseMessage refused = null!;
        await Eventually.UntilAsync(
            async () => (refused = await system.SendRequestAsync(policy, userId: 99)).StatusCode != HttpStatusCode.Accepted,
            "the gate to refuse",
            TimeSpan.FromSeconds(5));

        var acceptedWhileLearning = LogEnd(system, partition) - logEnd;
        refused.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        var problem = await refused.Content.ReadFromJsonAsync<Dictionary<string, object>>(TestContext.Current.CancellationToken);
        problem!["reason"].ToString().ShouldBe("SoldOut");

        for (var user = 100; user < 110; user++)
        {
            (await system.RequestAsync(policy, user)).ShouldBeNull();
        }

        LogEnd(system, partition).ShouldBe(logEnd + acceptedWhileLearning, "nothing is published once the gate knows");
    }

    private static long LogEnd(CouponSystem system, int partition) => KafkaLog.End(system.Kafka.BootstrapServers, CouponTopics.Requests, partition);
}
