using CouponAspire.Issuance.Contracts;

namespace CouponAspire.LocalInfrastructure;

/// <summary>
/// The product's topics on librdkafka's mock cluster, which has no admin API for the services to create them with:
/// <c>coupon-events</c> with the partitions asked for, its dead-letter topic with one.
/// </summary>
public static class LocalTopics
{
    public static readonly string[] Names = [CouponTopics.Requests, CouponTopics.DeadLetters];

    public static void Create(MockKafkaCluster cluster, int partitions)
    {
        cluster.CreateTopic(CouponTopics.Requests, partitions);
        cluster.CreateTopic(CouponTopics.DeadLetters, 1);
    }
}
