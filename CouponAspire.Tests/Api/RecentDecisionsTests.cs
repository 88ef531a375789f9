using CouponAspire.Api.Decisions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace CouponAspire.Tests.Api;

/// <summary>What an API instance keeps of coupon-decisions: bounded in count and age, and sure of what it does not hold.</summary>
public sealed class RecentDecisionsTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 6, 9, 0, 0, TimeSpan.Zero);

    [Fact(Timeout = Timeouts.Unit)]
    public void A_million_decisions_keep_no_more_than_the_capacity_in_memory_and_what_was_let_go_of_is_looked_up_elsewhere()
    {
        var time = new FakeTimeProvider(Start);
        var recent = new RecentDecisions(Options.Create(new DecisionsOptions { Capacity = 100_000, MaxAge = TimeSpan.FromHours(1) }), time);
        recent.Following(time.GetUtcNow());
        GC.Collect();
        var before = GC.GetTotalMemory(forceFullCollection: true);

        for (var i = 0; i < 1_000_000; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(1));
            recent.Add(Decision(i, requestedAt: time.GetUtcNow() - TimeSpan.FromMilliseconds(20)));
            if (i % 100_000 == 0)
            {
                recent.Count.ShouldBeLessThanOrEqualTo(100_000);
            }
        }

        var after = GC.GetTotalMemory(forceFullCollection: true);
        recent.Count.ShouldBe(100_000);
        (after - before).ShouldBeLessThan(100L * 1024 * 1024, "a hundred thousand decisions, not a million");

        // The newest are here; the oldest were let go of, and say so rather than read as undecided.
        recent.Find(Id(999_999), Start, out var newest).ShouldBe(RecentState.Decided);
        newest!.UserId.ShouldBe(999_999);
        recent.Find(Id(0), Start + TimeSpan.FromMilliseconds(1), out _).ShouldBe(RecentState.Unknown);
        recent.Find(Id(899_000), Start + TimeSpan.FromSeconds(899), out _).ShouldBe(RecentState.Unknown);
        recent.CompleteSince.ShouldBe(Start + TimeSpan.FromMilliseconds(900_000));
        recent.Find("not-decided-yet", time.GetUtcNow() - TimeSpan.FromMilliseconds(1), out _).ShouldBe(RecentState.Undecided);
    }

    [Fact(Timeout = Timeouts.Unit)]
    public void Decisions_older_than_the_maximum_age_are_let_go_of()
    {
        var time = new FakeTimeProvider(Start);
        var recent = new RecentDecisions(Options.Create(new DecisionsOptions { Capacity = 1000, MaxAge = TimeSpan.FromMinutes(10) }), time);
        recent.Following(time.GetUtcNow());
        recent.Add(Decision(1, Start));
        time.Advance(TimeSpan.FromMinutes(6));
        recent.Add(Decision(2, time.GetUtcNow()));

        time.Advance(TimeSpan.FromMinutes(5));
        recent.EvictExpired();

        recent.Count.ShouldBe(1);
        recent.Find(Id(1), Start, out _).ShouldBe(RecentState.Unknown);
        recent.Find(Id(2), Start + TimeSpan.FromMinutes(6), out _).ShouldBe(RecentState.Decided);
    }

    [Fact(Timeout = Timeouts.Unit)]
    public async Task A_client_waiting_before_the_decision_is_woken_by_it_and_one_that_comes_after_finds_it()
    {
        var time = new FakeTimeProvider(Start);
        var recent = new RecentDecisions(Options.Create(new DecisionsOptions()), time);
        recent.Following(time.GetUtcNow());

        using var early = recent.Wait(Id(1));
        recent.Find(Id(1), Start + TimeSpan.FromSeconds(5), out _).ShouldBe(RecentState.Undecided);
        recent.Waiting.ShouldBe(1);
        recent.Add(Decision(1, Start + TimeSpan.FromSeconds(5))).ShouldBeTrue("someone was waiting");

        (await early.Value.Task.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken)).UserId.ShouldBe(1);
        using (var late = recent.Wait(Id(1)))
        {
            recent.Find(Id(1), Start + TimeSpan.FromSeconds(5), out var found).ShouldBe(RecentState.Decided);
            found!.Outcome.ShouldBe(IssuanceOutcome.Issued);
        }

        early.Dispose();
        recent.Waiting.ShouldBe(0, "nothing is kept for clients that stopped waiting");
        recent.Add(Decision(2, Start)).ShouldBeFalse("no one waits for it");
    }

    [Fact(Timeout = Timeouts.Unit)]
    public void Before_the_stream_is_followed_and_close_to_where_it_began_nothing_can_be_said_of_what_is_not_here()
    {
        var time = new FakeTimeProvider(Start);
        var recent = new RecentDecisions(Options.Create(new DecisionsOptions()), time);

        recent.Find(Id(1), Start + TimeSpan.FromDays(1), out _).ShouldBe(RecentState.Unknown, "not following yet");
        recent.Following(Start);
        recent.Find(Id(1), Start + TimeSpan.FromSeconds(1), out _).ShouldBe(RecentState.Unknown, "within the margin for other instances' clocks");
        recent.Find(Id(1), Start + TimeSpan.FromSeconds(3), out _).ShouldBe(RecentState.Undecided);
        recent.NotFollowing();
        recent.Find(Id(1), Start + TimeSpan.FromSeconds(3), out _).ShouldBe(RecentState.Unknown, "the follower stopped");
    }

    private static string Id(int i) => $"request-{i}";

    private static KnownDecision Decision(int i, DateTimeOffset requestedAt) =>
        new(Id(i), 1, i, IssuanceOutcome.Issued, i, requestedAt, requestedAt + TimeSpan.FromMilliseconds(10), 5, default);
}
