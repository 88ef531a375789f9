using System.Net.ServerSentEvents;
using System.Text.Json;
using CouponAspire.Api.Requests;
using CouponAspire.LocalInfrastructure;
using Npgsql;

namespace CouponAspire.Tests.Api;

/// <summary>Reads of recent decisions come from what the API has read of coupon-decisions: PostgreSQL may be away.</summary>
public sealed class ReadsWithoutDatabaseTests(PostgresFixture postgres)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact(Timeout = Timeouts.System)]
    public async Task Requests_decided_in_the_last_minutes_read_correctly_while_postgresql_is_down_and_older_ones_say_it_is_unavailable()
    {
        // A server of this test's own, to stop; the API keeps two decisions, so that the older ones are PostgreSQL's alone.
        await using var server = await TemporaryPostgresServer.StartNewAsync(cancellationToken: Ct);
        var database = new TestDatabase(await LocalDatabases.CreateAsync(server.ConnectionString(), "coupondb", cancellationToken: Ct), () => Task.CompletedTask);
        await database.MigrateAsync();
        await using var system = await CouponSystem.StartAsync(
            postgres, partitions: 3, consumers: 1, kestrel: true, database: database,
            settings: new Dictionary<string, string?> { ["CouponApi:Decisions:Capacity"] = "2" });
        var policy = await system.CreatePolicyAsync(totalQuantity: 3);
        var decided = new List<CouponRequestStatus>();
        for (var user = 1; user <= 3; user++)
        {
            var requestId = (await system.RequestAsync(policy, user))!;
            using var answer = await system.Api.GetAsync($"/api/coupon-requests/{requestId}?wait=30", Ct);
            decided.Add((await answer.Content.ReadFromJsonAsync<CouponRequestStatus>(Ct))!);
        }

        decided.Select(d => d.Status).ShouldBe(["Issued", "Issued", "Issued"]);
        (await system.GetRequestAsync(decided[0].RequestId)).ShouldBe(decided[0], "older than what the API keeps: read from PostgreSQL");

        await server.StopAsync(immediate: true, Ct);
        NpgsqlConnection.ClearAllPools();

        foreach (var recent in decided.TakeLast(2))
        {
            (await system.GetRequestAsync(recent.RequestId)).ShouldBe(recent);
            using var waited = await system.Api.GetAsync($"/api/coupon-requests/{recent.RequestId}?wait=5", Ct);
            (await waited.Content.ReadFromJsonAsync<CouponRequestStatus>(Ct)).ShouldBe(recent);
            using var stream = await system.Api.GetStreamAsync($"/api/coupon-requests/{recent.RequestId}/events", Ct);
            var events = new List<SseItem<string>>();
            await foreach (var item in SseParser.Create(stream).EnumerateAsync(Ct))
            {
                events.Add(item);
            }

            events.ShouldHaveSingleItem().EventType.ShouldBe("decided");
            JsonSerializer.Deserialize<CouponRequestStatus>(events[0].Data, JsonSerializerOptions.Web).ShouldBe(recent);
        }

        // The sold-out gate answers from memory too; an old decision is PostgreSQL's, and says it cannot be read now.
        (await system.SendRequestAsync(policy, userId: 9)).StatusCode.ShouldBe(HttpStatusCode.Conflict);
        using var old = await system.Api.GetAsync($"/api/coupon-requests/{decided[0].RequestId}", Ct);
        old.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
    }
}
