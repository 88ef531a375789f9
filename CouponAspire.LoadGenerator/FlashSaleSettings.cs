namespace CouponAspire.LoadGenerator;

/// <summary>The shape of the sale and how hard to drive it.</summary>
internal sealed record FlashSaleSettings(
    int Policies,
    int Quantity,
    int Requests,
    int Users,
    int Concurrency,
    TimeSpan Ramp,
    int PollConcurrency,
    TimeSpan DecisionTimeout,
    long FirstUserId,
    int Seed,
    FileInfo? Json,
    bool PlainProgress);
