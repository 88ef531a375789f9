
namespace CouponAspire.Tests.Pipeline;

/// <summary>A stampede through the whole path: API → Kafka (mock cluster) → consumers → PostgreSQL.</summary>
public sealed class FlashSaleTests(PostgresFixture postgres)
{
    [Fact(Timeout = Timeouts.System)]
    public async Task A_flash_sale_over_several_policies_issues_exactly_the_quantity_to_the_first_users()
    {
        await using var system = await CouponSystem.StartAsync(postgres, partitions: 6, consumers: 2);
        long[] policies = [await system.CreatePolicyAsync(50), await system.CreatePolicyAsync(120), await system.CreatePolicyAsync(7), await system.CreatePolicyAsync(300)];

        var sale = await FlashSale.RunAsync(system, policies, count: 3000, users: 400);
        var accepted = sale.Accepted;

        await Invariants.AssertAllHoldAsync(system, accepted);
        foreach (var policy in policies)
        {
            var quantity = await system.Database.ScalarAsync<int>("SELECT total_quantity FROM coupon_policies WHERE id = $1", policy);
            (await system.Database.ScalarAsync<long>("SELECT count(*) FROM coupons WHERE policy_id = $1", policy)).ShouldBe(quantity, $"policy {policy}");
        }

        TestContext.Current.TestOutputHelper?.WriteLine($"accepted {accepted.Count}, refused by the sold-out gate {sale.Refused}");
    }

    [Fact(Timeout = Timeouts.System)]
    public async Task Every_accepted_request_reads_as_pending_or_decided_and_unknown_ids_as_not_found()
    {
        await using var system = await CouponSystem.StartAsync(postgres, consumers: 0);
        var policy = await system.CreatePolicyAsync(5);

        var requestId = (await system.RequestAsync(policy, userId: 1))!;

        (await system.GetRequestAsync(requestId))!.Status.ShouldBe("Pending");
        (await system.GetRequestAsync(Guid.NewGuid().ToString())).ShouldBeNull();

        system.AddConsumer();
        await system.WaitUntilDecidedAsync([requestId]);
        (await system.GetRequestAsync(requestId, waitSeconds: 10))!.Status.ShouldBe("Issued");
    }
}
