using CouponAspire.Api.Requests;
using CouponAspire.LocalInfrastructure;
using Confluent.Kafka;
using Npgsql;

namespace CouponAspire.Tests.Faults;

/// <summary>
/// The broker keeping a request but not confirming it in time: the API's answer follows what really happened to it,
/// through a real failed publish (the leader's answer to one produce request held back past the publish's timeout).
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class AdmissionFaultTests(PostgresFixture postgres)
{
    /// <summary>
    /// The API's publish gives up after a second, while its request is still with the broker (the request's own timeout is
    /// longer): the held-back answer comes well after, and the request may have been written.
    /// </summary>
    private static readonly Dictionary<string, string?> QuickPublishTimeout = new()
    {
        ["Aspire:Confluent:Kafka:Producer:Config:MessageTimeoutMs"] = "1000",
        ["Aspire:Confluent:Kafka:Producer:Config:RequestTimeoutMs"] = "10000",
    };

    private static readonly TimeSpan HeldBack = TimeSpan.FromSeconds(3);

    [Fact(Timeout = Timeouts.Fault)]
    public async Task A_request_kept_by_the_broker_and_decided_before_the_api_gives_up_on_it_is_answered_202_with_its_decision()
    {
        await using var system = await CouponSystem.StartAsync(postgres, partitions: 1, consumers: 1, settings: QuickPublishTimeout);
        await system.WaitForGroupAsync();
        var policy = await system.CreatePolicyAsync(totalQuantity: 5);
        await system.WaitUntilDecidedAsync([(await system.RequestAsync(policy, userId: 1))!]);
        var mark = system.Log.Mark;

        // The broker keeps the next request and the consumer decides it at once; its acknowledgement is three seconds late.
        system.Kafka.PushRequestError(LeaderOf(system), KafkaApiKey.Produce, ErrorCode.NoError, HeldBack);
        using var response = await system.SendRequestAsync(policy, userId: 2);

        response.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var accepted = (await response.Content.ReadFromJsonAsync<CouponRequestAccepted>(TestContext.Current.CancellationToken))!;
        accepted.Status.ShouldBe("Issued", "the decision the consumer had made when the API gave up on the publish");
        system.Log.Lines("api", mark).ShouldContain(line => line.Contains("did not confirm request") && line.Contains(accepted.RequestId), "the publish failed");
        (await system.Database.ScalarAsync<string>("SELECT outcome FROM request_outcomes WHERE request_id = $1", accepted.RequestId)).ShouldBe("Issued");
    }

    [Fact(Timeout = Timeouts.Fault)]
    public async Task A_request_neither_confirmed_by_the_broker_nor_withdrawn_from_the_database_is_503_outcome_unknown_with_its_id_and_is_decided_later()
    {
        // A database of its own, to stop: the withdrawal cannot be written. Durable, so that what was committed before
        // the crash (the policy) is there after it.
        await using var server = await TemporaryPostgresServer.StartNewAsync(durable: true, cancellationToken: TestContext.Current.CancellationToken);
        var database = new TestDatabase(await LocalDatabases.CreateAsync(server.ConnectionString(), "coupondb", cancellationToken: TestContext.Current.CancellationToken), () => Task.CompletedTask);
        await database.MigrateAsync();
        await using var system = await CouponSystem.StartAsync(postgres, partitions: 1, consumers: 0, settings: QuickPublishTimeout, database: database);
        var policy = await system.CreatePolicyAsync(totalQuantity: 5);
        (await system.RequestAsync(policy, userId: 1)).ShouldNotBeNull("the gate knows the policy");

        await server.StopAsync(immediate: true, TestContext.Current.CancellationToken);
        NpgsqlConnection.ClearAllPools();
        system.Kafka.PushRequestError(LeaderOf(system), KafkaApiKey.Produce, ErrorCode.NoError, HeldBack);
        using var response = await system.SendRequestAsync(policy, userId: 2);

        response.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
        var problem = await response.Content.ReadFromJsonAsync<Dictionary<string, object>>(TestContext.Current.CancellationToken);
        problem!["title"].ToString()!.ShouldContain("outcome unknown");
        var requestId = problem["requestId"].ToString()!;

        // It was published after all: once the database is back, a consumer decides it, and the client that kept its id learns so.
        await server.StartAsync(TestContext.Current.CancellationToken);
        database.DataSource.Clear();
        system.AddConsumer();
        await system.WaitUntilDecidedAsync([requestId], FaultDrill.Patience);
        var decided = (await system.GetRequestAsync(requestId, waitSeconds: WaitPreference.MaxSeconds))!;
        decided.Status.ShouldBe("Issued", decided.ToString());
        (await system.Database.ScalarAsync<string>("SELECT outcome FROM request_outcomes WHERE request_id = $1", requestId)).ShouldBe("Issued");
    }

    private static int LeaderOf(CouponSystem system)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = system.Kafka.BootstrapServers }).Build();
        return admin.GetMetadata(CouponTopics.Requests, TimeSpan.FromSeconds(10)).Topics.Single().Partitions.Single(p => p.PartitionId == 0).Leader;
    }
}
