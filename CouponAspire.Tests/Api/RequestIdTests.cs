using System.Text.RegularExpressions;
using CouponAspire.Api.Requests;
using CouponAspire.LocalInfrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CouponAspire.Tests.Api;

/// <summary>
/// Request ids as the contract has them: one opaque, URL-safe string in the 202, its Location, the status and the Kafka
/// message; Pending from the 202 on without any write; not found when never accepted, altered, or someone else's.
/// </summary>
public sealed partial class RequestIdTests(PostgresFixture postgres)
{
    [Fact(Timeout = Timeouts.System)]
    public async Task The_request_id_is_one_string_in_the_answer_its_location_the_status_and_the_kafka_message()
    {
        await using var system = await CouponSystem.StartAsync(postgres, consumers: 0);
        var policy = await system.CreatePolicyAsync(5);
        var before = DateTimeOffset.UtcNow;

        var response = await system.SendRequestAsync(policy, userId: 11);

        response.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var accepted = (await response.Content.ReadFromJsonAsync<CouponRequestAccepted>(Ct))!;
        accepted.RequestId.ShouldMatch(UrlSafe().ToString());
        accepted.RequestId.Length.ShouldBeLessThanOrEqualTo(64);
        response.Headers.Location!.ToString().ShouldBe($"/api/coupon-requests/{accepted.RequestId}");

        var status = (await system.GetRequestAsync(accepted.RequestId))!;
        status.RequestId.ShouldBe(accepted.RequestId);
        status.Status.ShouldBe(RequestStatuses.Pending);
        status.PolicyId.ShouldBe(policy);
        status.UserId.ShouldBe(11);
        status.RequestedAt.ShouldBeInRange(before, DateTimeOffset.UtcNow);

        var published = system.PublishedRequests().ShouldHaveSingleItem();
        published.RequestId.ShouldBe(accepted.RequestId);
        published.RequestedAt.ShouldBe(status.RequestedAt);

        // Nothing was written to PostgreSQL to accept it: the id alone makes it read as Pending.
        (await system.Database.ScalarAsync<long>("SELECT count(*) FROM request_outcomes")).ShouldBe(0);
    }

    [Fact(Timeout = Timeouts.System)]
    public async Task An_id_that_was_altered_made_up_or_signed_with_another_key_reads_as_not_found()
    {
        await using var system = await CouponSystem.StartAsync(postgres, consumers: 0, kestrel: true);
        var policy = await system.CreatePolicyAsync(5);
        var id = (await system.RequestAsync(policy, userId: 12))!;
        var otherKey = new RequestIds(Options.Create(new RequestIdOptions { Key = DevelopmentTokens.NewSigningKey() }), new HostingEnvironment { EnvironmentName = Environments.Production }, NullLogger<RequestIds>.Instance);

        string[] forged =
        [
            .. Enumerable.Range(0, id.Length).Select(i => Altered(id, i)),
            id[..^1],
            id + "A",
            id.ToUpperInvariant(),
            otherKey.Create(policy, 12, DateTimeOffset.UtcNow),
            Guid.NewGuid().ToString(),
            "x",
            new string('A', 64),
            new string('A', 65),
            new string('-', 2000),
            "%00",
            "..",
        ];

        foreach (var candidate in forged.Where(f => f != id))
        {
            var response = await system.Api.GetAsync($"/api/coupon-requests/{Uri.EscapeDataString(candidate)}", Ct);
            response.StatusCode.ShouldBe(HttpStatusCode.NotFound, candidate);
            response.Content.Headers.ContentType?.MediaType.ShouldBe("application/problem+json", candidate);
        }

        (await system.Api.GetAsync($"/api/coupon-requests/{id}", Ct)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact(Timeout = Timeouts.System)]
    public async Task A_request_withdrawn_after_a_failed_publish_reads_as_not_found_even_with_a_valid_id()
    {
        await using var system = await CouponSystem.StartAsync(postgres, consumers: 0);
        var policy = await system.CreatePolicyAsync(5);
        var ids = system.ApiFactory.Services.GetRequiredService<RequestIds>();
        var withdrawn = ids.Create(policy, 13, DateTimeOffset.UtcNow);
        await system.Database.ScalarAsync<object?>(
            "INSERT INTO request_outcomes (request_id, policy_id, user_id, outcome, requested_at, decided_at) VALUES ($1, $2, 13, 'Withdrawn', now(), now())",
            withdrawn,
            policy);

        (await system.GetRequestAsync(withdrawn)).ShouldBeNull();
    }

    /// <summary>The id with one character changed to another of the URL-safe alphabet.</summary>
    private static string Altered(string id, int position)
    {
        var characters = id.ToCharArray();
        characters[position] = characters[position] == 'A' ? 'B' : 'A';
        return new string(characters);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [GeneratedRegex("^[A-Za-z0-9_-]+$")]
    private static partial Regex UrlSafe();
}
