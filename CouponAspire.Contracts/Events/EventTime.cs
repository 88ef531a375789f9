namespace CouponAspire.Contracts.Events;

/// <summary>
/// The precision of every timestamp on the topics: microseconds, as PostgreSQL stores them, so that a decision read back
/// from the database and published again is byte for byte the one published first.
/// </summary>
public static class EventTime
{
    public static DateTimeOffset Truncate(DateTimeOffset instant) =>
        new(instant.UtcTicks - (instant.UtcTicks % TimeSpan.TicksPerMicrosecond), TimeSpan.Zero);
}
