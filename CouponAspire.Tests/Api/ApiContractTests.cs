using System.Net.Http.Headers;
using CouponAspire.Api.Coupons;
using CouponAspire.Api.Policies;
using CouponAspire.Api.Requests;

namespace CouponAspire.Tests.Api;

/// <summary>
/// The HTTP contract of PRODUCT.md §4 and who may do what (no consumers: nothing gets decided here). HTTP alone: the
/// tests share one system, each looking at its own policies, but for the one that needs rate limits of its own.
/// </summary>
public sealed class ApiContractTests(PostgresFixture postgres, SharedApiSystem shared) : IClassFixture<SharedApiSystem>
{
    [Fact(Timeout = Timeouts.System)]
    public async Task Creating_a_policy_answers_201_with_its_location_and_the_policy()
    {
        var system = shared.System;

        var response = await system.Api.PostAsJsonAsync("/api/coupon-policies", new { name = "Launch", totalQuantity = 100, startsAt = "2026-01-01T00:00:00+09:00" }, Ct);

        response.StatusCode.ShouldBe(HttpStatusCode.Created);
        var policy = (await response.Content.ReadFromJsonAsync<PolicyResponse>(Ct))!;
        response.Headers.Location!.ToString().ShouldBe($"/api/coupon-policies/{policy.Id}");
        policy.ShouldSatisfyAllConditions(
            () => policy.Name.ShouldBe("Launch"),
            () => policy.TotalQuantity.ShouldBe(100),
            () => policy.IssuedCount.ShouldBe(0),
            () => policy.RemainingQuantity.ShouldBe(100),
            () => policy.SoldOut.ShouldBeFalse(),
            () => policy.StartsAt.ShouldBe(new DateTimeOffset(2025, 12, 31, 15, 0, 0, TimeSpan.Zero)));
        var read = await system.Api.GetFromJsonAsync<PolicyResponse>($"/api/coupon-policies/{policy.Id}", Ct);
        read.ShouldBe(policy with { CreatedAt = read!.CreatedAt });
    }

    [Fact(Timeout = Timeouts.System)]
    public async Task Only_an_administrator_may_create_a_policy()
    {
        var system = shared.System;
        var body = new { name = "Launch", totalQuantity = 10 };
        var written = await shared.WrittenAsync();

        var anonymous = await Send(system, HttpMethod.Post, "/api/coupon-policies", token: null, body);
        var user = await Send(system, HttpMethod.Post, "/api/coupon-policies", system.Tokens.ForUser(7), body);

        anonymous.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        user.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await shared.WrittenAsync()).ShouldBe(written, "no policy created");
    }

    [Fact(Timeout = Timeouts.System)]
    public async Task A_policy_is_public_and_an_unknown_one_is_404()
    {
        var system = shared.System;
        var policy = await system.CreatePolicyAsync(5);

        (await Send(system, HttpMethod.Get, $"/api/coupon-policies/{policy}", token: null)).StatusCode.ShouldBe(HttpStatusCode.OK);
        var missing = await Send(system, HttpMethod.Get, "/api/coupon-policies/999999", token: null);

        missing.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        missing.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
    }

    [Fact(Timeout = Timeouts.System)]
    public async Task A_user_asks_for_themselves_and_an_administrator_for_anyone()
    {
        var system = shared.System;
        var policy = await system.CreatePolicyAsync(5);
        var path = $"/api/coupon-policies/{policy}/requests";

        var own = await Send(system, HttpMethod.Post, path, system.Tokens.ForUser(7), new { });
        var ownExplicit = await Send(system, HttpMethod.Post, path, system.Tokens.ForUser(7), new { userId = 7 });
        var forSomeoneElse = await Send(system, HttpMethod.Post, path, system.Tokens.ForUser(7), new { userId = 8 });
        var admin = await Send(system, HttpMethod.Post, path, system.Tokens.ForAdmin(), new { userId = 8 });
        var adminForNobody = await Send(system, HttpMethod.Post, path, system.Tokens.ForAdmin(), new { });
        var anonymous = await Send(system, HttpMethod.Post, path, token: null, new { userId = 7 });

        own.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        ownExplicit.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        forSomeoneElse.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        admin.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        adminForNobody.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await ProblemErrors(adminForNobody)).ShouldContainKey("userId");
        anonymous.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        var published = system.PublishedRequests().Where(r => r.PolicyId == policy).ToList();
        published.Count.ShouldBe(3);
        published.Count(r => r.UserId == 8).ShouldBe(1);
    }

    [Theory(Timeout = Timeouts.System)]
    [InlineData("future")]
    [InlineData("past")]
    public async Task A_request_outside_the_policy_window_is_refused_with_409_and_not_published(string window)
    {
        var system = shared.System;
        var now = DateTimeOffset.UtcNow;
        var policy = window == "future"
            ? await system.CreatePolicyAsync(5, startsAt: now.AddHours(1))
            : await system.CreatePolicyAsync(5, startsAt: now.AddHours(-2), endsAt: now.AddHours(-1));

        var response = await system.SendRequestAsync(policy, userId: 3);

        response.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        (await response.Content.ReadFromJsonAsync<Dictionary<string, object>>(Ct))!["reason"].ToString().ShouldBe("PolicyNotOpen");
        system.PublishedRequests().ShouldNotContain(r => r.PolicyId == policy);
    }

    [Fact(Timeout = Timeouts.System)]
    public async Task A_request_for_an_unknown_policy_is_404_and_not_published()
    {
        var system = shared.System;

        var response = await system.SendRequestAsync(424242, userId: 3);

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        system.PublishedRequests().ShouldNotContain(r => r.PolicyId == 424242);
    }

    [Fact(Timeout = Timeouts.System)]
    public async Task A_user_reads_only_their_own_requests_and_coupons()
    {
        var system = shared.System;
        var policy = await system.CreatePolicyAsync(5);
        var requestId = (await system.RequestAsync(policy, userId: 7))!;

        var own = await Send(system, HttpMethod.Get, $"/api/coupon-requests/{requestId}", system.Tokens.ForUser(7));
        var others = await Send(system, HttpMethod.Get, $"/api/coupon-requests/{requestId}", system.Tokens.ForUser(8));
        var ownCoupons = await Send(system, HttpMethod.Get, "/api/users/7/coupons", system.Tokens.ForUser(7));
        var othersCoupons = await Send(system, HttpMethod.Get, "/api/users/7/coupons", system.Tokens.ForUser(8));
        var adminCoupons = await Send(system, HttpMethod.Get, "/api/users/7/coupons", system.Tokens.ForAdmin());

        own.StatusCode.ShouldBe(HttpStatusCode.OK);
        var status = (await own.Content.ReadFromJsonAsync<CouponRequestStatus>(Ct))!;
        status.Status.ShouldBe("Pending");
        status.DecidedAt.ShouldBeNull();
        others.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        ownCoupons.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ownCoupons.Content.ReadFromJsonAsync<UserCoupon[]>(Ct)).ShouldBeEmpty();
        othersCoupons.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        adminCoupons.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact(Timeout = Timeouts.System)]
    public async Task A_user_over_the_rate_limit_gets_429_with_retry_after_and_other_users_do_not()
    {
        await using var system = await CouponSystem.StartAsync(postgres, consumers: 0, settings: new Dictionary<string, string?>
        {
            // One permit an hour after the burst: however slowly the requests run, the fourth finds the bucket empty.
            ["CouponApi:RateLimit:Burst"] = "3",
            ["CouponApi:RateLimit:PermitsPerPeriod"] = "1",
            ["CouponApi:RateLimit:Period"] = "01:00:00",
        });
        var policy = await system.CreatePolicyAsync(50);

        var flood = new List<HttpResponseMessage>();
        for (var i = 0; i < 6; i++)
        {
            flood.Add(await system.SendRequestAsync(policy, userId: 1));
        }

        var other = await system.SendRequestAsync(policy, userId: 2);

        flood.Take(3).ShouldAllBe(r => r.StatusCode == HttpStatusCode.Accepted);
        var limited = flood.Skip(3).ToArray();
        limited.ShouldAllBe(r => r.StatusCode == HttpStatusCode.TooManyRequests);
        limited[0].Headers.RetryAfter!.Delta!.Value.TotalSeconds.ShouldBeGreaterThan(60, "the next permit is most of an hour away");
        limited[0].Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        other.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        system.PublishedRequests().Count(r => r.UserId == 1).ShouldBe(3);
    }

    [Fact(Timeout = Timeouts.System)]
    public async Task Health_alive_and_the_OpenAPI_document_answer_outside_Development()
    {
        var system = shared.System;

        (await system.Api.GetStringAsync("/health", Ct)).ShouldBe("Healthy");
        (await system.Api.GetStringAsync("/alive", Ct)).ShouldBe("Healthy");
        (await system.Api.GetStringAsync("/openapi/v1.json", Ct)).ShouldContain("/api/coupon-policies/{policyId}/requests");
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    internal static Task<HttpResponseMessage> Send(CouponSystem system, HttpMethod method, string path, string? token, object? body = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        request.Headers.Authorization = token is null ? null : new AuthenticationHeaderValue("Bearer", token);
        // The system's client carries the admin's token by default; these requests say who they are themselves.
        var client = system.ApiFactory.CreateClient();
        return client.SendAsync(request, Ct);
    }

    internal static async Task<Dictionary<string, string[]>> ProblemErrors(HttpResponseMessage response)
    {
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        var problem = await response.Content.ReadFromJsonAsync<ValidationProblem>(Ct);
        return problem!.Errors ?? [];
    }

    internal sealed record ValidationProblem(int Status, string? Title, Dictionary<string, string[]>? Errors);
}
