using CouponAspire.Api.Coupons;
using CouponAspire.Api.Policies;
using CouponAspire.Api.Requests;

namespace CouponAspire.Tests.Pipeline;

public sealed class EndToEndTests(PostgresFixture postgres)
{
    [Fact(Timeout = Timeouts.System)]
    public async Task An_accepted_request_is_pending_then_issued()
    {
        await using var system = await CouponSystem.StartAsync(postgres, consumers: 1);
        var policyId = await system.CreatePolicyAsync(totalQuantity: 10);

        var requestId = (await system.RequestAsync(policyId, userId: 42))!;
        await system.WaitUntilDecidedAsync([requestId]);

        var status = await system.GetRequestAsync(requestId, waitSeconds: 10);
        status.ShouldNotBeNull();
        status.Status.ShouldBe(RequestStatuses.Issued);
        status.PolicyId.ShouldBe(policyId);
        status.UserId.ShouldBe(42);
        status.CouponId.ShouldNotBeNull();
    }
}
