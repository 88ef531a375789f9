using CouponAspire.Ordering;
using CouponAspire.Data;
using static CouponAspire.Contracts.Events.IssuanceOutcome;

namespace CouponAspire.Tests.Ordering;

/// <summary>The ordering judge on partitions written by hand: a sound one, and each way an order can be broken.</summary>
public sealed class FirstComeFirstServedTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);
    private static readonly PolicyTerms TwoCoupons = new(7, TotalQuantity: 2);

    [Fact(Timeout = Timeouts.Unit)]
    public void The_first_distinct_users_on_their_first_requests_win_and_everyone_after_is_sold_out()
    {
        var verdict = FirstComeFirstServed.Judge(TwoCoupons, Log((1, Issued), (1, AlreadyIssued), (2, Issued), (3, SoldOut), (2, AlreadyIssued), (4, SoldOut)));

        verdict.Ok.ShouldBeTrue(verdict.Detail);
        verdict.Partition.ShouldBe(3);
        verdict.RequestsInLog.ShouldBe(6);
        verdict.Decided.ShouldBe(6);
        verdict.Issued.ShouldBe(2);
    }

    [Fact(Timeout = Timeouts.Unit)]
    public void A_later_request_issued_in_place_of_an_earlier_one_is_two_violations_named_by_offset()
    {
        // User 3 asked before user 4, but user 4 got the last coupon.
        var verdict = FirstComeFirstServed.Judge(TwoCoupons, Log((1, Issued), (3, SoldOut), (4, Issued)));

        verdict.Ok.ShouldBeFalse();
        verdict.Violations.Count.ShouldBe(2);
        verdict.Violations[0].ShouldContain("offset 101 (user 3)");
        verdict.Violations[0].ShouldContain("a winner skipped");
        verdict.Violations[1].ShouldContain("offset 102 (user 4)");
        verdict.Violations[1].ShouldContain("a later request issued");
    }

    [Fact(Timeout = Timeouts.Unit)]
    public void A_winner_skipped_is_a_violation_even_when_the_count_is_right()
    {
        var verdict = FirstComeFirstServed.Judge(TwoCoupons, Log((1, Issued), (2, SoldOut), (3, SoldOut)));

        verdict.Ok.ShouldBeFalse();
        verdict.Violations.ShouldHaveSingleItem().ShouldContain("user 2");
        verdict.Violations[0].ShouldContain("should have won");
    }

    [Fact(Timeout = Timeouts.Unit)]
    public void A_winner_issued_on_a_later_request_rather_than_the_first_is_a_violation()
    {
        var verdict = FirstComeFirstServed.Judge(TwoCoupons, Log((1, AlreadyIssued), (1, Issued), (2, Issued)));

        verdict.Ok.ShouldBeFalse();
        verdict.Detail.ShouldContain("offset 100 (user 1)");
        verdict.Detail.ShouldContain("not their first request");
    }

    [Fact(Timeout = Timeouts.Unit)]
    public void A_policy_on_two_partitions_is_a_violation()
    {
        var requests = Log((1, Issued), (2, Issued)).Append(new OrderedRequest("other", 5, Start, Partition: 4, Offset: 9, SoldOut)).ToList();

        var verdict = FirstComeFirstServed.Judge(TwoCoupons, requests);

        verdict.Ok.ShouldBeFalse();
        verdict.Partition.ShouldBeNull();
        verdict.Violations[0].ShouldContain("partitions 3, 4");
    }

    [Fact(Timeout = Timeouts.Unit)]
    public void An_accepted_request_missing_from_the_log_or_in_it_twice_is_a_violation()
    {
        var log = Log((1, Issued), (2, Issued));
        var twice = log.Append(log[1] with { Offset = 105 }).ToList();

        var missing = FirstComeFirstServed.Judge(TwoCoupons, log, mustBeLogged: ["r100", "r101", "r999"]);
        var repeated = FirstComeFirstServed.Judge(TwoCoupons, twice, mustBeLogged: ["r100", "r101"]);
        var evicted = FirstComeFirstServed.Judge(TwoCoupons, log, mustBeLogged: ["r100", "r101", "r999"], unseenBefore: 100);

        missing.Violations.ShouldHaveSingleItem().ShouldContain("1 accepted request(s) are not in the log, e.g. r999");
        repeated.Violations.ShouldHaveSingleItem().ShouldContain("request r101 is in the log 2 times");
        evicted.Violations.ShouldHaveSingleItem().ShouldContain("the log no longer holds offsets before 100");
    }

    [Fact(Timeout = Timeouts.Unit)]
    public void A_request_left_undecided_before_decided_ones_is_a_gap_but_an_undecided_tail_is_only_not_done_yet()
    {
        var gap = FirstComeFirstServed.Judge(TwoCoupons, Log((1, Issued), (2, null), (3, Issued)));
        var tail = FirstComeFirstServed.Judge(TwoCoupons, Log((1, Issued), (2, Issued), (3, null), (4, null)));

        gap.Ok.ShouldBeFalse();
        gap.Violations[0].ShouldContain("offset 101 (user 2) is not decided although offset 102 after it is");
        tail.Ok.ShouldBeTrue(tail.Detail);
        tail.Decided.ShouldBe(2);
        tail.Detail.ShouldContain("2 at the end not decided yet");
    }

    [Fact(Timeout = Timeouts.Unit)]
    public void Withdrawn_requests_do_not_count_and_requests_outside_the_window_are_not_open()
    {
        var windowed = TwoCoupons with { StartsAt = Start.AddSeconds(1) };
        var requests = new List<OrderedRequest>
        {
            new("early", 9, Start, 3, 99, PolicyNotOpen),
            new("void", 8, Start.AddSeconds(2), 3, 100, Withdrawn),
            new("a", 1, Start.AddSeconds(2), 3, 101, Issued),
            new("b", 2, Start.AddSeconds(2), 3, 102, Issued),
        };

        var verdict = FirstComeFirstServed.Judge(windowed, requests);

        verdict.Ok.ShouldBeTrue(verdict.Detail);
        verdict.Issued.ShouldBe(2);
    }

    /// <summary>A partition (3) from offset 100 on: one request per (user, recorded outcome), ids <c>r{offset}</c>.</summary>
    private static List<OrderedRequest> Log(params (long User, IssuanceOutcome? Outcome)[] requests) =>
        [.. requests.Select((r, i) => new OrderedRequest($"r{100 + i}", r.User, Start.AddMilliseconds(i), Partition: 3, Offset: 100 + i, r.Outcome))];
}
