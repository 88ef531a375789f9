using CouponAspire.LoadGenerator;

namespace CouponAspire.Tests.LoadGenerator;

public sealed class SalePlanTests
{
    [Fact(Timeout = Timeouts.Unit)]
    public void Every_user_asks_at_least_once_and_a_fifth_of_them_click_again()
    {
        var plan = SalePlan.Create(requests: 500, users: 300, policies: 2, seed: 3);

        var clicks = plan.UserOfRequest.CountBy(u => u).ToDictionary(p => p.Key, p => p.Value);
        plan.ShouldSatisfyAllConditions(
            () => plan.Requests.ShouldBe(500),
            () => plan.Users.ShouldBe(300),
            () => clicks.Keys.Order().ShouldBe(Enumerable.Range(0, 300)),
            () => clicks.Count(p => p.Value > 1).ShouldBe(60),
            () => clicks.Values.Max().ShouldBeLessThanOrEqualTo(5));
    }

    [Fact(Timeout = Timeouts.Unit)]
    public void With_fewer_requests_than_users_every_request_is_another_user()
    {
        var plan = SalePlan.Create(requests: 50, users: 300, policies: 1, seed: 3);

        plan.Users.ShouldBe(50);
        plan.UserOfRequest.Distinct().Count().ShouldBe(50);
    }

    [Fact(Timeout = Timeouts.Unit)]
    public void Users_are_spread_over_the_policies()
    {
        var plan = SalePlan.Create(requests: 900, users: 900, policies: 3, seed: 3);

        plan.UserOfRequest.CountBy(plan.PolicyOf).Select(p => p.Value).ShouldAllBe(count => count == 300);
    }

    [Fact(Timeout = Timeouts.Unit)]
    public void The_same_seed_gives_the_same_order()
    {
        SalePlan.Create(1_000, 400, 1, seed: 9).UserOfRequest.ShouldBe(SalePlan.Create(1_000, 400, 1, seed: 9).UserOfRequest);
    }
}
