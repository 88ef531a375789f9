using System.Text;
using Confluent.Kafka;
using CouponAspire.Consumer.Consuming;
using CouponAspire.Contracts.Events;

namespace CouponAspire.Tests.Pipeline;

/// <summary>Messages that can never be processed are set aside, and their partition goes on.</summary>
public sealed class DeadLetterTests(PostgresFixture postgres)
{
    public static TheoryData<string, string?, string> Malformed() => new()
    {
        { "not JSON", "{policy}", "not json at all" },
        { "truncated", "{policy}", """{"requestId":"0199a4c2-1111-7000-8000-000000000001","policyId":{policy},"us""" },
        { "wrongly typed", "{policy}", """{"requestId":"0199a4c2-1111-7000-8000-000000000002","policyId":"{policy}","userId":5,"requestedAt":"2026-11-01T00:00:00Z","version":1}""" },
        { "unknown version", "{policy}", """{"requestId":"0199a4c2-1111-7000-8000-000000000003","policyId":{policy},"userId":5,"requestedAt":"2026-11-01T00:00:00Z","version":3}""" },
        { "missing user", "{policy}", """{"requestId":"0199a4c2-1111-7000-8000-000000000004","policyId":{policy},"requestedAt":"2026-11-01T00:00:00Z","version":1}""" },
        { "negative user", "{policy}", """{"requestId":"0199a4c2-1111-7000-8000-000000000005","policyId":{policy},"userId":-5,"requestedAt":"2026-11-01T00:00:00Z","version":1}""" },
        { "key of another policy", "999", """{"requestId":"0199a4c2-1111-7000-8000-000000000006","policyId":{policy},"userId":5,"requestedAt":"2026-11-01T00:00:00Z","version":1}""" },
        { "no value", "{policy}", "" },
        { "request id not a string", "{policy}", """{"requestId":7,"policyId":{policy},"userId":5,"requestedAt":"2026-11-01T00:00:00Z","version":2}""" },
        { "empty request id", "{policy}", """{"requestId":"","policyId":{policy},"userId":5,"requestedAt":"2026-11-01T00:00:00Z","version":2}""" },
        { "request id too long", "{policy}", $$"""{"requestId":"{{new string('a', 65)}}","policyId":{policy},"userId":5,"requestedAt":"2026-11-01T00:00:00Z","version":2}""" },
    };

    [Theory(Timeout = Timeouts.System)]
    [MemberData(nameof(Malformed))]
    public async Task A_malformed_message_is_dead_lettered_and_later_requests_of_its_partition_are_decided(string kind, string? key, string value)
    {
        await using var system = await CouponSystem.StartAsync(postgres, partitions: 3, consumers: 1);
        var policy = await system.CreatePolicyAsync(totalQuantity: 10);
        var before = (await system.RequestAsync(policy, userId: 1))!;
        await system.WaitUntilDecidedAsync([before]);
        var partition = await system.Database.ScalarAsync<int>("SELECT kafka_partition FROM request_outcomes WHERE request_id = $1", before);

        using (var producer = new ProducerBuilder<string?, byte[]?>(new ProducerConfig { BootstrapServers = system.Kafka.BootstrapServers }).Build())
        {
            await producer.ProduceAsync(
                new TopicPartition(CouponTopics.Requests, partition),
                new Message<string?, byte[]?>
                {
                    Key = key?.Replace("{policy}", policy.ToString(), StringComparison.Ordinal),
                    Value = value.Length == 0 ? null : Encoding.UTF8.GetBytes(value.Replace("{policy}", policy.ToString(), StringComparison.Ordinal)),
                },
                TestContext.Current.CancellationToken);
        }

        var after = (await system.RequestAsync(policy, userId: 2))!;
        await system.WaitUntilDecidedAsync([after]);

        (await system.GetRequestAsync(after, waitSeconds: 10))!.Status.ShouldBe("Issued", kind);
        var deadLetters = KafkaLog.ReadAll(system.Kafka.BootstrapServers, CouponTopics.DeadLetters);
        var deadLetter = deadLetters.ShouldHaveSingleItem();
        Encoding.UTF8.GetString(deadLetter.Message.Headers.GetLastBytes(DeadLetterPublisher.ReasonHeader)).ShouldNotBeNullOrWhiteSpace();
        Encoding.UTF8.GetString(deadLetter.Message.Headers.GetLastBytes(DeadLetterPublisher.SourceHeader)).ShouldStartWith($"{CouponTopics.Requests}/{partition}@");
        (await system.Database.ScalarAsync<long>("SELECT count(*) FROM request_outcomes")).ShouldBe(2, "the malformed message decided nothing");
    }
}
