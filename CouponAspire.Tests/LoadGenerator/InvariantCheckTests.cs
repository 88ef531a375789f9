using CouponAspire.LoadGenerator;

namespace CouponAspire.Tests.LoadGenerator;

/// <summary>The verdict over hand-made outcomes: a sale that held, and each way one can break.</summary>
public sealed class InvariantCheckTests
{
    private const long Policy = 7;
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact(Timeout = Timeouts.Unit)]
    public void A_sale_that_issued_the_quantity_to_distinct_users_holds()
    {
        var results = InvariantCheck.Evaluate([new PolicyFinalState(Policy, 2, 2)], HeldSale(), Timeout);

        results.ShouldAllBe(r => r.Ok);
        results.Select(r => r.Name).ShouldBe(
            [InvariantCheck.AllDecided, InvariantCheck.OutcomesMatch, InvariantCheck.ExactIssuance, InvariantCheck.NoDuplicates, InvariantCheck.CountsAgree]);
    }

    [Fact(Timeout = Timeouts.Unit)]
    public void A_user_issued_two_coupons_of_one_policy_breaks_no_duplicates()
    {
        var sale = HeldSale().Append(Taken(user: 1, Issued(coupon: 12))).ToList();

        var results = InvariantCheck.Evaluate([new PolicyFinalState(Policy, 3, 3)], sale, Timeout);

        Broken(results).ShouldContain(InvariantCheck.NoDuplicates);
    }

    [Fact(Timeout = Timeouts.Unit)]
    public void Issuing_more_than_the_quantity_breaks_exact_issuance_and_the_counts()
    {
        var sale = HeldSale().Append(Taken(user: 3, Issued(coupon: 12))).ToList();

        var results = InvariantCheck.Evaluate([new PolicyFinalState(Policy, 2, 3)], sale, Timeout);

        Broken(results).ShouldBe([InvariantCheck.ExactIssuance, InvariantCheck.CountsAgree]);
    }

    [Fact(Timeout = Timeouts.Unit)]
    public void Refusing_a_user_while_coupons_are_left_breaks_exact_issuance()
    {
        var results = InvariantCheck.Evaluate([new PolicyFinalState(Policy, 5, 2)], HeldSale(), Timeout);

        Broken(results).ShouldBe([InvariantCheck.ExactIssuance]);
    }

    [Fact(Timeout = Timeouts.Unit)]
    public void An_issued_count_that_differs_from_the_issued_outcomes_breaks_the_counts()
    {
        var results = InvariantCheck.Evaluate([new PolicyFinalState(Policy, 2, 1)], HeldSale(), Timeout);

        Broken(results).ShouldBe([InvariantCheck.CountsAgree]);
    }

    [Fact(Timeout = Timeouts.Unit)]
    public void An_accepted_request_never_decided_breaks_the_decisions()
    {
        var sale = HeldSale().Append(Taken(user: 3, outcome: null)).ToList();

        var results = InvariantCheck.Evaluate([new PolicyFinalState(Policy, 2, 2)], sale, Timeout);

        Broken(results).ShouldBe([InvariantCheck.AllDecided]);
    }

    [Fact(Timeout = Timeouts.Unit)]
    public void A_decision_slower_than_the_timeout_breaks_the_decisions()
    {
        var sale = HeldSale().Append(Taken(user: 3, Rejected("SoldOut", after: TimeSpan.FromSeconds(11)))).ToList();

        var results = InvariantCheck.Evaluate([new PolicyFinalState(Policy, 2, 2)], sale, Timeout);

        Broken(results).ShouldBe([InvariantCheck.AllDecided]);
    }

    [Fact(Timeout = Timeouts.Unit)]
    public void An_already_issued_answer_for_a_user_who_won_nothing_breaks_no_duplicates()
    {
        var sale = HeldSale().Append(Taken(user: 3, Rejected("AlreadyIssued", coupon: 99))).ToList();

        var results = InvariantCheck.Evaluate([new PolicyFinalState(Policy, 2, 2)], sale, Timeout);

        Broken(results).ShouldBe([InvariantCheck.NoDuplicates]);
    }

    [Fact(Timeout = Timeouts.Unit)]
    public void An_outcome_of_another_user_breaks_the_matching()
    {
        var sale = HeldSale().Append(Taken(user: 3, Rejected("SoldOut") with { UserId = 4 })).ToList();

        var results = InvariantCheck.Evaluate([new PolicyFinalState(Policy, 2, 2)], sale, Timeout);

        Broken(results).ShouldContain(InvariantCheck.OutcomesMatch);
    }

    /// <summary>Two coupons, three users: users 1 and 2 win (user 1 clicked twice), user 3 is too late.</summary>
    private static List<TakenRequest> HeldSale() =>
    [
        Taken(user: 1, Issued(coupon: 10)),
        Taken(user: 2, Issued(coupon: 11)),
        Taken(user: 1, Rejected("AlreadyIssued", coupon: 10)),
        Taken(user: 3, Rejected("SoldOut")),
    ];

    private static TakenRequest Taken(long user, RequestStatusView? outcome)
    {
        var id = Guid.NewGuid().ToString();
        return new TakenRequest(id, Policy, user, Answered202: true, outcome is null ? null : outcome with { RequestId = id, UserId = outcome.UserId == 0 ? user : outcome.UserId });
    }

    private static RequestStatusView Issued(long coupon) => new("", Policy, 0, "Issued", null, coupon, Start, Start.AddMilliseconds(300));

    private static RequestStatusView Rejected(string reason, long? coupon = null, TimeSpan? after = null) =>
        new("", Policy, 0, "Rejected", reason, coupon, Start, Start + (after ?? TimeSpan.FromMilliseconds(400)));

    private static List<string> Broken(IReadOnlyList<InvariantResult> results) => results.Where(r => !r.Ok).Select(r => r.Name).ToList();
}
