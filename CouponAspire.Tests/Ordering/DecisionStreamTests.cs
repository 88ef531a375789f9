using CouponAspire.Ordering;

namespace CouponAspire.Tests.Ordering;

/// <summary>The judgement of a policy's decisions on coupon-decisions against its requests and what its clients were told.</summary>
public sealed class DecisionStreamTests
{
    private static readonly PolicyTerms Policy = new(1, TotalQuantity: 2);
    private static readonly DateTimeOffset At = new(2026, 12, 6, 9, 0, 0, TimeSpan.Zero);

    private static readonly LoggedRequest[] Requests = [Request("a", 1, 0), Request("b", 2, 1), Request("c", 1, 2), Request("d", 3, 3)];

    private static readonly CouponDecided[] Right =
    [
        Decided("a", 1, IssuanceOutcome.Issued, 1, 1),
        Decided("b", 2, IssuanceOutcome.Issued, 2, 0),
        Decided("c", 1, IssuanceOutcome.AlreadyIssued, 1, 0),
        Decided("d", 3, IssuanceOutcome.SoldOut, null, 0),
    ];

    [Fact(Timeout = Timeouts.Unit)]
    public void Decisions_in_the_requests_order_agreeing_with_the_clients_hold_also_when_one_is_published_again_identical()
    {
        var verdict = DecisionStream.Judge(Policy, Requests, Logged([.. Right, Right[1]]), Right.ToDictionary(d => d.RequestId));

        verdict.Ok.ShouldBeTrue(verdict.Detail);
        verdict.Duplicates.ShouldBe(1);
    }

    [Fact(Timeout = Timeouts.Unit)]
    public void Decisions_out_of_the_requests_order_are_named()
    {
        var verdict = DecisionStream.Judge(Policy, Requests, Logged([Right[1], Right[0], Right[2], Right[3]]), new Dictionary<string, CouponDecided>());

        verdict.Ok.ShouldBeFalse();
        verdict.Detail.ShouldContain("out of the requests' order");
    }

    [Fact(Timeout = Timeouts.Unit)]
    public void A_request_without_a_decision_and_a_decision_without_a_request_are_named()
    {
        var verdict = DecisionStream.Judge(Policy, Requests, Logged([Right[0], Right[1], Right[2], Decided("x", 9, IssuanceOutcome.SoldOut, null, 0)]), new Dictionary<string, CouponDecided>());

        verdict.Violations.ShouldContain(v => v.Contains("have no decision"));
        verdict.Violations.ShouldContain(v => v.Contains("not in coupon-events"));
    }

    [Fact(Timeout = Timeouts.Unit)]
    public void A_request_decided_twice_differently_and_a_decision_its_client_was_not_told_are_named()
    {
        var told = Right.ToDictionary(d => d.RequestId);
        told["d"] = told["d"] with { Status = RequestStatuses.Issued, Reason = null, CouponId = 9 };

        var verdict = DecisionStream.Judge(Policy, Requests, Logged([.. Right, Right[3] with { Reason = "PolicyNotOpen" }]), told);

        verdict.Violations.ShouldContain(v => v.Contains("decided twice, differently"));
        verdict.Violations.ShouldContain(v => v.Contains("its client was told Issued"));
    }

    [Fact(Timeout = Timeouts.Unit)]
    public void A_quantity_left_that_does_not_fall_with_each_coupon_is_named()
    {
        var verdict = DecisionStream.Judge(Policy, Requests, Logged([Right[0], Right[1] with { RemainingQuantity = 1 }, Right[2], Right[3]]), new Dictionary<string, CouponDecided>());

        verdict.Detail.ShouldContain("says 1 left after 2 of 2 issued");
    }

    [Fact(Timeout = Timeouts.Unit)]
    public void Decisions_of_one_policy_on_two_partitions_are_named()
    {
        var logged = Logged(Right);
        logged[3] = logged[3] with { Partition = 4 };

        DecisionStream.Judge(Policy, Requests, logged, new Dictionary<string, CouponDecided>()).Detail.ShouldContain("partitions 3, 4");
    }

    private static LoggedRequest Request(string id, long user, long offset) => new(id, Policy.PolicyId, user, At, 3, offset);

    private static CouponDecided Decided(string id, long user, IssuanceOutcome outcome, long? coupon, int remaining) =>
        CouponDecided.Of(id, Policy.PolicyId, user, outcome, coupon, At, At + TimeSpan.FromMilliseconds(10), remaining);

    private static LoggedDecision[] Logged(CouponDecided[] decisions) => [.. decisions.Select((d, i) => new LoggedDecision(d, 3, i))];
}
