using Confluent.Kafka;
using CouponAspire.Api.Requests;
using CouponAspire.Contracts.Events;
using CouponAspire.Ordering;
using CouponAspire.LocalInfrastructure;

namespace CouponAspire.Tests.Ordering;

public sealed class CouponPartitionsTests
{
    [Theory(Timeout = Timeouts.System)]
    [InlineData(12)]
    [InlineData(7)]
    public async Task The_partition_a_policy_is_computed_on_is_the_one_the_apis_producer_puts_it_on(int partitions)
    {
        using var kafka = LocalKafka.Start(partitions, brokers: 1);
        var config = new ProducerConfig { BootstrapServers = kafka.BootstrapServers };
        CouponRequestsProducer.Configure(config);
        using var producer = new ProducerBuilder<string, byte[]>(config).Build();

        for (long policy = 1; policy <= 300; policy++)
        {
            var delivered = await producer.ProduceAsync(
                CouponTopics.Requests, new Message<string, byte[]> { Key = CouponTopics.KeyFor(policy), Value = [] }, TestContext.Current.CancellationToken);
            CouponPartitions.Of(policy, partitions).ShouldBe(delivered.Partition.Value, $"policy {policy}");
        }
    }
}
