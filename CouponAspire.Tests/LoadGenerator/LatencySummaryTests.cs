using CouponAspire.LocalInfrastructure;

namespace CouponAspire.Tests.LoadGenerator;

public sealed class LatencySummaryTests
{
    [Fact(Timeout = Timeouts.Unit)]
    public void Percentiles_of_an_empty_series_are_zero()
    {
        LatencySummary.Of([]).ShouldBe(new LatencySummary(0, 0, 0, 0, 0));
    }

    [Fact(Timeout = Timeouts.Unit)]
    public void Percentiles_are_nearest_rank_values_of_the_series_in_any_order()
    {
        var values = Enumerable.Range(1, 100).Select(v => (double)v).Reverse().ToArray();

        LatencySummary.Of(values).ShouldBe(new LatencySummary(100, 50, 95, 99, 100));
    }

    [Fact(Timeout = Timeouts.Unit)]
    public void Every_percentile_of_a_single_value_is_that_value()
    {
        LatencySummary.Of([7.5]).ShouldBe(new LatencySummary(1, 7.5, 7.5, 7.5, 7.5));
    }

    [Fact(Timeout = Timeouts.Unit)]
    public void A_rare_slow_request_shows_in_p99_but_not_in_p95()
    {
        var values = Enumerable.Repeat(2.0, 98).Append(500).Append(900).ToArray();

        var summary = LatencySummary.Of(values);

        summary.ShouldSatisfyAllConditions(
            () => summary.P95.ShouldBe(2),
            () => summary.P99.ShouldBe(500),
            () => summary.Max.ShouldBe(900));
    }
}
