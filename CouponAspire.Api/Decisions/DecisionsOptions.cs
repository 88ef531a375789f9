namespace CouponAspire.Api.Decisions;

/// <summary>Options of the <c>CouponApi:Decisions</c> section: what each API instance keeps of <c>coupon-decisions</c>.</summary>
public sealed class DecisionsOptions
{
    public const string SectionName = CouponApiOptions.SectionName + ":Decisions";

    /// <summary>
    /// The most decisions kept (default 100,000, some 30 MB): reads of requests decided since the oldest of them are
    /// answered from memory, older ones from PostgreSQL.
    /// </summary>
    public int Capacity { get; set; } = 100_000;

    /// <summary>How long a decision is kept at most (default 10 minutes).</summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromMinutes(10);
}
