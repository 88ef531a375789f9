using CouponAspire.Api.Requests;

namespace CouponAspire.Tests.Pipeline;

/// <summary>The sold-out gate: once a policy is exhausted, the API refuses at once and publishes nothing more.</summary>
public sealed class SoldOutGateTests(PostgresFixture postgres)
{
    [Fact(Timeout = Timeouts.System)]
    public async Task The_decision_that_takes_the_last_coupon_closes_the_policy_at_once_without_a_database_refresh()
    {
        // A refresh an hour away: only the decisions can close the policy within the test.
        await using var system = await CouponSystem.StartAsync(
            postgres, partitions: 3, consumers: 1, settings: new Dictionary<string, string?> { ["CouponApi:PolicyRefreshInterval"] = "01:00:00" });
        var policy = await system.CreatePolicyAsync(totalQuantity: 3);

        // Until a decision says the quantity is used up, every request is taken: any of them could still win.
        var accepted = new List<string>();
        for (var user = 1; user <= 3; user++)
        {
            accepted.Add((await system.RequestAsync(policy, user))!);
        }

        // The client of the last coupon learns it; by then the API knows the policy is sold out.
        using var last = await system.Api.GetAsync($"/api/coupon-requests/{accepted[^1]}?wait=30", TestContext.Current.CancellationToken);
        (await last.Content.ReadFromJsonAsync<CouponRequestStatus>(TestContext.Current.CancellationToken))!.Status.ShouldBe("Issued");
        var partition = await system.Database.ScalarAsync<int>("SELECT kafka_partition FROM request_outcomes LIMIT 1");
        var logEnd = LogEnd(system, partition);

        var refused = await system.SendRequestAsync(policy, userId: 99);

        refused.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        var problem = await refused.Content.ReadFromJsonAsync<Dictionary<string, object>>(TestContext.Current.CancellationToken);
        problem!["reason"].ToString().ShouldBe("SoldOut");
        for (var user = 100; user < 110; user++)
        {
            (await system.RequestAsync(policy, user)).ShouldBeNull();
        }

        LogEnd(system, partition).ShouldBe(logEnd, "nothing is published once the gate knows");
    }

    [Fact(Timeout = Timeouts.System)]
    public async Task A_policy_whose_decisions_the_api_does_not_see_is_closed_by_the_periodic_refresh()
    {
        await using var system = await CouponSystem.StartAsync(
            postgres, partitions: 1, consumers: 0, settings: new Dictionary<string, string?> { ["CouponApi:PolicyRefreshInterval"] = "00:00:00.2" });
        var policy = await system.CreatePolicyAsync(totalQuantity: 3);
        (await system.RequestAsync(policy, userId: 1)).ShouldNotBeNull();

        // Sold out without a decision on the stream (another system's doing, or a stream not followed).
        await system.Database.ScalarAsync<object?>("UPDATE coupon_policies SET issued_count = total_quantity WHERE id = $1", policy);

        await Eventually.UntilAsync(
            async () => (await system.SendRequestAsync(policy, userId: 2)).StatusCode == HttpStatusCode.Conflict,
            "the refresh to close the policy",
            TimeSpan.FromSeconds(10));
    }

    private static long LogEnd(CouponSystem system, int partition) => KafkaLog.End(system.Kafka.BootstrapServers, CouponTopics.Requests, partition);
}
