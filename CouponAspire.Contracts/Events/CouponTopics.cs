namespace CouponAspire.Contracts.Events;

/// <summary>The Kafka topics of the product, and the consumer group that decides requests.</summary>
public static class CouponTopics
{
    /// <summary>Issue requests, keyed by policy id.</summary>
    public const string Requests = "coupon-events";

    /// <summary>Messages of <see cref="Requests"/> that can never be processed, with the reason in headers.</summary>
    public const string DeadLetters = Requests + ".dlq";

    public const string ConsumerGroup = "coupon-service-group";
}
