namespace CouponAspire.LoadGenerator;

/// <summary>The shape of the sale and how hard to drive it.</summary>
/// <param name="Policies">Policies on sale; null: one per partition of <c>coupon-events</c>.</param>
/// <param name="Duration">Send for this long at most; null: until every request of the plan is sent.</param>
/// <param name="Rate">Requests a second at most, paced evenly; null: as fast as the workers go.</param>
/// <param name="Result">How each client learns its outcome once accepted.</param>
/// <param name="CheckOrdering">Judge each policy's order against <c>coupon-events</c> and its decisions against <c>coupon-decisions</c>.</param>
internal sealed record FlashSaleSettings(
    int? Policies,
    int Quantity,
    int Requests,
    int Users,
    TimeSpan? Duration,
    double? Rate,
    int Concurrency,
    TimeSpan Ramp,
    ResultMode Result,
    int PollConcurrency,
    TimeSpan DecisionTimeout,
    long FirstUserId,
    int Seed,
    FileInfo? ReportJson,
    bool PlainProgress,
    bool CheckOrdering)
{
    /// <summary>Policies when none are asked for and the partitions are not known.</summary>
    public const int DefaultPolicies = 8;

    /// <summary>
    /// A first user id from the clock (a hundred thousand ids a second, repeating after four months, below 10¹²): runs one
    /// after another have users of their own, and none shares a per-user rate limit with an earlier run's.
    /// </summary>
    public static long FirstUserIdFromClock() => 1 + DateTimeOffset.UtcNow.ToUnixTimeSeconds() % 10_000_000 * 100_000;
}
