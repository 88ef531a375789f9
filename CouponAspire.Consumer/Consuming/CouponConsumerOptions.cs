namespace CouponAspire.Consumer.Consuming;

/// <summary>Options of the <c>CouponConsumer</c> configuration section.</summary>
public sealed class CouponConsumerOptions
{
    public const string SectionName = "CouponConsumer";

    /// <summary>
    /// The most messages decided in one transaction (default 1,000). A batch is whatever has arrived, up to this: one
    /// message when traffic is light, full batches under a stampede.
    /// </summary>
    public int MaxBatchSize { get; set; } = 1000;

    /// <summary>The longest pause between retries of a batch that failed on a transient error (default 5 s).</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long this member's assignment must stand before it says it is ready (default none). A group whose members
    /// start together may go through a few generations first; on librdkafka's mock cluster each lasts up to a session
    /// timeout, so the AppHost's local run waits a few seconds for the group to settle before it calls the system ready.
    /// </summary>
    public TimeSpan StableAfter { get; set; } = TimeSpan.Zero;
}
