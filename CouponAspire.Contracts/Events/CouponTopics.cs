namespace CouponAspire.Contracts.Events;

/// <summary>The Kafka topics of the product, and the consumer group that decides requests.</summary>
public static class CouponTopics
{
    /// <summary>Issue requests (<see cref="CouponRequested"/>), keyed by policy id.</summary>
    public const string Requests = "coupon-events";

    /// <summary>Decisions (<see cref="CouponDecided"/>), keyed by policy id, partitioned as <see cref="Requests"/>.</summary>
    public const string Decisions = "coupon-decisions";

    /// <summary>Messages of <see cref="Requests"/> that can never be processed, with the reason in headers.</summary>
    public const string DeadLetters = Requests + ".dlq";

    public const string ConsumerGroup = "coupon-service-group";

    /// <summary>The key of a policy's messages on every topic: the policy id as a decimal UTF-8 string.</summary>
    public static string KeyFor(long policyId) => policyId.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
