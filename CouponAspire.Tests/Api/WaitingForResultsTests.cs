using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json;
using CouponAspire.Api.Decisions;
using CouponAspire.Api.Policies;
using CouponAspire.Api.Requests;
using Microsoft.Extensions.DependencyInjection;

namespace CouponAspire.Tests.Api;

/// <summary>
/// A client learns its result without polling: a request that waits for its own outcome, a GET that waits (Prefer: wait,
/// ?wait), the request's server-sent events, and a sale page's stream of the quantity left. The consumers are held back until the client waits, so that the wait
/// is what is tested.
/// </summary>
public sealed class WaitingForResultsTests(PostgresFixture postgres)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory(Timeout = Timeouts.System)]
    [InlineData("Prefer")]
    [InlineData("query")]
    public async Task A_get_that_waits_is_answered_the_moment_the_request_is_decided(string how)
    {
        await using var system = await CouponSystem.StartAsync(postgres, partitions: 3, consumers: 0);
        var policy = await system.CreatePolicyAsync(5);
        var requestId = (await system.RequestAsync(policy, userId: 7))!;

        var started = Stopwatch.StartNew();
        var waiting = system.Api.SendAsync(Get(requestId, how, seconds: 30), Ct);
        await WaitersAsync(system, 1);
        system.AddConsumer();
        using var answer = await waiting;

        answer.StatusCode.ShouldBe(HttpStatusCode.OK);
        answer.Headers.GetValues("Preference-Applied").ShouldBe(["wait=30"]);
        var status = (await answer.Content.ReadFromJsonAsync<CouponRequestStatus>(Ct))!;
        status.Status.ShouldBe("Issued");
        status.DecidedAt.ShouldNotBeNull();
        started.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(30), "answered when decided, not when the wait was over");
    }

    [Theory(Timeout = Timeouts.System)]
    [InlineData("Prefer")]
    [InlineData("query")]
    public async Task A_request_that_waits_is_answered_201_with_its_outcome_the_moment_it_is_decided(string how)
    {
        await using var system = await CouponSystem.StartAsync(postgres, partitions: 3, consumers: 0);
        var policy = await system.CreatePolicyAsync(5);

        var started = Stopwatch.StartNew();
        var waiting = how == "query" ? system.SendRequestAsync(policy, userId: 7, query: "?wait=30") : system.SendRequestAsync(policy, userId: 7, prefer: "wait=30");
        await WaitersAsync(system, 1);
        system.AddConsumer();
        using var answer = await waiting;

        answer.StatusCode.ShouldBe(HttpStatusCode.Created);
        answer.Headers.GetValues("Preference-Applied").ShouldBe(["wait=30"]);
        var status = (await answer.Content.ReadFromJsonAsync<CouponRequestStatus>(Ct))!;
        answer.Headers.Location!.ToString().ShouldBe($"/api/coupon-requests/{status.RequestId}");
        status.Status.ShouldBe("Issued");
        status.UserId.ShouldBe(7);
        status.ShouldBe((await system.GetRequestAsync(status.RequestId))!, "the GET's body");
        started.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(30), "answered when decided, not when the wait was over");
        system.ApiFactory.Services.GetRequiredService<RecentDecisions>().Waiting.ShouldBe(0);
    }

    [Fact(Timeout = Timeouts.System)]
    public async Task A_request_that_waits_for_longer_than_anyone_decides_is_a_202_once_the_wait_is_over_and_a_refused_one_is_refused_at_once()
    {
        await using var system = await CouponSystem.StartAsync(postgres, partitions: 3, consumers: 0);
        var policy = await system.CreatePolicyAsync(5);

        var started = Stopwatch.StartNew();
        using var answer = await system.SendRequestAsync(policy, userId: 7, prefer: "wait=1");

        started.Elapsed.ShouldBeGreaterThanOrEqualTo(TimeSpan.FromSeconds(0.9));
        answer.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        answer.Headers.GetValues("Preference-Applied").ShouldBe(["wait=1"]);
        var accepted = (await answer.Content.ReadFromJsonAsync<CouponRequestAccepted>(Ct))!;
        accepted.Status.ShouldBe("Pending");
        (await system.GetRequestAsync(accepted.RequestId))!.Status.ShouldBe("Pending");
        system.ApiFactory.Services.GetRequiredService<RecentDecisions>().Waiting.ShouldBe(0, "a client that stopped waiting is forgotten");

        var closed = await system.CreatePolicyAsync(5, startsAt: DateTimeOffset.UtcNow.AddDays(1));
        started.Restart();
        using var refused = await system.SendRequestAsync(closed, userId: 7, prefer: "wait=30");
        refused.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        started.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(30), "nothing to wait for");
    }

    [Fact(Timeout = Timeouts.System)]
    public async Task A_get_that_waits_for_a_request_nobody_decides_answers_pending_once_the_wait_is_over()
    {
        await using var system = await CouponSystem.StartAsync(postgres, partitions: 3, consumers: 0);
        var policy = await system.CreatePolicyAsync(5);
        var requestId = (await system.RequestAsync(policy, userId: 7))!;

        var started = Stopwatch.StartNew();
        using var answer = await system.Api.SendAsync(Get(requestId, "Prefer", seconds: 1), Ct);

        started.Elapsed.ShouldBeGreaterThanOrEqualTo(TimeSpan.FromSeconds(0.9));
        answer.StatusCode.ShouldBe(HttpStatusCode.OK);
        answer.Headers.GetValues("Preference-Applied").ShouldBe(["wait=1"]);
        (await answer.Content.ReadFromJsonAsync<CouponRequestStatus>(Ct))!.Status.ShouldBe("Pending");
        system.ApiFactory.Services.GetRequiredService<RecentDecisions>().Waiting.ShouldBe(0, "a client that stopped waiting is forgotten");
    }

    [Theory(Timeout = Timeouts.System)]
    [InlineData("?wait=abc", null)]
    [InlineData("?wait=-1", null)]
    [InlineData("?wait=31", null)]
    [InlineData("", "wait=1.5")]
    [InlineData("", "wait=forever")]
    public async Task A_wait_that_is_not_a_whole_number_of_seconds_up_to_thirty_is_a_400_naming_wait(string query, string? prefer)
    {
        await using var system = await CouponSystem.StartAsync(postgres, partitions: 1, consumers: 0);
        var policy = await system.CreatePolicyAsync(5);
        var requestId = (await system.RequestAsync(policy, userId: 7))!;
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/coupon-requests/{requestId}{query}");
        if (prefer is not null)
        {
            request.Headers.TryAddWithoutValidation("Prefer", prefer);
        }

        using var answer = await system.Api.SendAsync(request, Ct);
        using var issue = await system.SendRequestAsync(policy, userId: 8, query, prefer);

        answer.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await ApiContractTests.ProblemErrors(answer)).Keys.ShouldBe(["wait"]);
        issue.StatusCode.ShouldBe(HttpStatusCode.BadRequest, "a request that asks for a bad wait is not taken");
        (await ApiContractTests.ProblemErrors(issue)).Keys.ShouldBe(["wait"]);
    }

    [Fact(Timeout = Timeouts.System)]
    public async Task A_requests_stream_says_pending_at_once_then_decided_with_the_gets_body_and_ends()
    {
        await using var system = await CouponSystem.StartAsync(postgres, partitions: 3, consumers: 0, kestrel: true);
        var policy = await system.CreatePolicyAsync(5);
        var requestId = (await system.RequestAsync(policy, userId: 7))!;

        using var response = await system.Api.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"/api/coupon-requests/{requestId}/events"), HttpCompletionOption.ResponseHeadersRead, Ct);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/event-stream");
        await using var stream = await response.Content.ReadAsStreamAsync(Ct);
        await using var events = SseParser.Create(stream).EnumerateAsync(Ct).GetAsyncEnumerator(Ct);

        (await events.MoveNextAsync()).ShouldBeTrue();
        events.Current.EventType.ShouldBe("pending");
        JsonSerializer.Deserialize<CouponRequestStatus>(events.Current.Data, JsonSerializerOptions.Web)!.Status.ShouldBe("Pending");
        system.AddConsumer();
        (await events.MoveNextAsync()).ShouldBeTrue();
        events.Current.EventType.ShouldBe("decided");
        var decided = JsonSerializer.Deserialize<CouponRequestStatus>(events.Current.Data, JsonSerializerOptions.Web)!;
        (await events.MoveNextAsync()).ShouldBeFalse("the stream ends with the decision");

        decided.ShouldBe((await system.GetRequestAsync(requestId))!);
        decided.Status.ShouldBe("Issued");
    }

    [Fact(Timeout = Timeouts.System)]
    public async Task A_stream_opened_on_a_decided_request_says_decided_and_ends_and_a_quiet_one_keeps_the_connection_alive_with_comments()
    {
        await using var system = await CouponSystem.StartAsync(
            postgres, partitions: 3, consumers: 1, kestrel: true, settings: new Dictionary<string, string?> { ["CouponApi:KeepAliveInterval"] = "00:00:00.2" });
        var policy = await system.CreatePolicyAsync(5, startsAt: DateTimeOffset.UtcNow.AddDays(1));
        var decided = (await system.RequestAsync(policy, userId: 7));
        decided.ShouldBeNull("a policy not open yet is refused: nothing to stream");
        var open = await system.CreatePolicyAsync(5);
        var requestId = (await system.RequestAsync(open, userId: 7))!;
        await system.WaitUntilDecidedAsync([requestId]);

        var text = await system.Api.GetStringAsync($"/api/coupon-requests/{requestId}/events", Ct);
        text.ShouldStartWith("event: decided");

        // A request nobody decides: the consumer is gone, and the stream keeps talking while it waits.
        foreach (var consumer in system.Consumers.ToArray())
        {
            await system.StopConsumerAsync(consumer);
        }

        var pending = (await system.RequestAsync(open, userId: 8))!;
        using var response = await system.Api.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"/api/coupon-requests/{pending}/events"), HttpCompletionOption.ResponseHeadersRead, Ct);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(Ct), Encoding.UTF8);
        var lines = new List<string>();
        while (lines.Count(l => l.StartsWith(':')) < 2 && await reader.ReadLineAsync(Ct) is { } line)
        {
            lines.Add(line);
        }

        lines[0].ShouldBe("event: pending");
        lines.ShouldContain(": keep-alive");
    }

    [Theory(Timeout = Timeouts.System)]
    [InlineData("not-an-id")]
    [InlineData("foreign")]
    public async Task A_stream_of_an_unknown_or_someone_elses_request_is_a_404_before_it_starts(string which)
    {
        await using var system = await CouponSystem.StartAsync(postgres, partitions: 1, consumers: 0);
        var policy = await system.CreatePolicyAsync(5);
        var requestId = which == "foreign" ? (await system.RequestAsync(policy, userId: 7))! : which;
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/coupon-requests/{requestId}/events");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", system.Tokens.ForUser(8));

        using var response = await system.Api.SendAsync(request, Ct);

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
    }

    [Fact(Timeout = Timeouts.System)]
    public async Task A_sale_pages_stream_shows_the_quantity_left_falling_then_sold_out_and_ends()
    {
        await using var system = await CouponSystem.StartAsync(postgres, partitions: 3, consumers: 0, kestrel: true);
        var policy = await system.CreatePolicyAsync(5);
        using var anonymous = new HttpClient { BaseAddress = system.Api.BaseAddress };

        using var response = await anonymous.GetAsync($"/api/coupon-policies/{policy}/events", HttpCompletionOption.ResponseHeadersRead, Ct);
        await using var stream = await response.Content.ReadAsStreamAsync(Ct);
        var reading = ReadAllAsync(stream);
        for (var user = 1; user <= 8; user++)
        {
            (await system.RequestAsync(policy, user)).ShouldNotBeNull();
        }

        system.AddConsumer();
        var events = await reading;

        events[0].ShouldBe(("remaining", new PolicyRemaining(policy, 5, 5, false)));
        events[^1].ShouldBe(("soldOut", new PolicyRemaining(policy, 5, 0, true)));
        events.SkipLast(1).ShouldAllBe(e => e.Type == "remaining");
        var remaining = events.Select(e => e.Body.RemainingQuantity).ToList();
        remaining.ShouldBe(remaining.OrderDescending().ToList(), "the quantity left only falls");
        remaining.Distinct().Count().ShouldBe(remaining.Count, "an event says something new");
    }

    [Fact(Timeout = Timeouts.System)]
    public async Task A_sale_pages_stream_of_a_sold_out_policy_says_so_at_once_and_an_unknown_one_is_a_404()
    {
        await using var system = await CouponSystem.StartAsync(postgres, partitions: 1, consumers: 1, kestrel: true);
        var policy = await system.CreatePolicyAsync(1);
        var requestId = (await system.RequestAsync(policy, userId: 1))!;

        // Decided, and read by the API from coupon-decisions: a waiting client has its answer.
        using (var decided = await system.Api.SendAsync(Get(requestId, "query", seconds: 30), Ct))
        {
            (await decided.Content.ReadFromJsonAsync<CouponRequestStatus>(Ct))!.Status.ShouldBe("Issued");
        }

        using var anonymous = new HttpClient { BaseAddress = system.Api.BaseAddress };

        var text = await anonymous.GetStringAsync($"/api/coupon-policies/{policy}/events", Ct);
        using var unknown = await anonymous.GetAsync("/api/coupon-policies/999999/events", Ct);
        using var invalid = await anonymous.GetAsync("/api/coupon-policies/abc/events", Ct);

        text.ShouldStartWith("event: soldOut");
        unknown.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        invalid.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await ApiContractTests.ProblemErrors(invalid)).Keys.ShouldBe(["policyId"]);
    }

    private static HttpRequestMessage Get(string requestId, string how, int seconds)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, how == "query" ? $"/api/coupon-requests/{requestId}?wait={seconds}" : $"/api/coupon-requests/{requestId}");
        if (how == "Prefer")
        {
            request.Headers.Add("Prefer", $"wait={seconds}");
        }

        return request;
    }

    private static Task WaitersAsync(CouponSystem system, int count)
    {
        var recent = system.ApiFactory.Services.GetRequiredService<RecentDecisions>();
        return Eventually.UntilAsync(() => recent.Waiting == count, $"{count} client(s) to be waiting", TimeSpan.FromSeconds(30));
    }

    private static async Task<List<(string Type, PolicyRemaining Body)>> ReadAllAsync(Stream stream)
    {
        var events = new List<(string, PolicyRemaining)>();
        await foreach (var item in SseParser.Create(stream).EnumerateAsync(Ct))
        {
            events.Add((item.EventType, JsonSerializer.Deserialize<PolicyRemaining>(item.Data, JsonSerializerOptions.Web)!));
        }

        return events;
    }
}
