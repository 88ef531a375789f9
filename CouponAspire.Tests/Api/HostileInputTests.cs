using System.Net.Http.Headers;
using System.Text;

namespace CouponAspire.Tests.Api;

/// <summary>
/// Bad and hostile input against the real Kestrel server: always a 4xx problem that names the field at fault, never a
/// 5xx, and nothing written or published. HTTP alone: the tests share one system, and each compares what was written
/// before and after it.
/// </summary>
public sealed class HostileInputTests(SharedApiSystem shared) : IClassFixture<SharedApiSystem>
{
    public static TheoryData<string, string, string> BadRequestBodies() => new()
    {
        // body, content type, field at fault
        { """{"userId":0}""", "application/json", "userId" },
        { """{"userId":-1}""", "application/json", "userId" },
        { """{"userId":"5"}""", "application/json", "userId" },
        { """{"userId":1.5}""", "application/json", "userId" },
        { """{"userId":true}""", "application/json", "userId" },
        { """{"userId":9223372036854775808}""", "application/json", "userId" },
        { """{"userId":-9223372036854775809}""", "application/json", "userId" },
        { """{"userId":null}""", "application/json", "userId" },
        { """{"userId":5,"policyId":3}""", "application/json", "policyId" },
        { """{"userId":5""", "application/json", "userId" },
        { "not json", "application/json", "body" },
        { "[]", "application/json", "body" },
        { "\"userId\"", "application/json", "body" },
        { "", "application/json", "body" },
    };

    [Theory(Timeout = Timeouts.System)]
    [MemberData(nameof(BadRequestBodies))]
    public async Task A_bad_request_body_is_a_400_naming_the_field_and_publishes_nothing(string body, string contentType, string field)
    {
        var system = shared.System;
        var policy = await system.CreatePolicyAsync(5);
        var written = await shared.WrittenAsync();

        // As an administrator, so that a missing userId is the body's fault rather than the token's.
        var response = await PostRawAsync(system, $"/api/coupon-policies/{policy}/requests", body, contentType);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, await response.Content.ReadAsStringAsync(Ct));
        (await ApiContractTests.ProblemErrors(response)).ShouldContainKey(field);
        (await shared.WrittenAsync()).ShouldBe(written, "nothing written, nothing published");
    }

    [Theory(Timeout = Timeouts.System)]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("abc")]
    [InlineData("1e3")]
    [InlineData("%201")]
    [InlineData("9223372036854775808")]
    public async Task A_policy_id_that_is_not_a_positive_64_bit_integer_is_a_400_naming_it(string policyId)
    {
        var system = shared.System;
        var written = await shared.WrittenAsync();

        var request = await PostRawAsync(system, $"/api/coupon-policies/{policyId}/requests", """{"userId":5}""", "application/json");
        var read = await system.Api.GetAsync($"/api/coupon-policies/{policyId}", Ct);

        request.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await ApiContractTests.ProblemErrors(request)).ShouldContainKey("policyId");
        read.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await ApiContractTests.ProblemErrors(read)).ShouldContainKey("policyId");
        (await shared.WrittenAsync()).ShouldBe(written, "nothing written, nothing published");
    }

    [Fact(Timeout = Timeouts.System)]
    public async Task Ids_at_the_edge_of_their_type_are_valid_and_simply_unknown()
    {
        var system = shared.System;
        var policy = await system.CreatePolicyAsync(5);
        var written = await shared.WrittenAsync();

        var largestPolicy = await PostRawAsync(system, $"/api/coupon-policies/{long.MaxValue}/requests", """{"userId":5}""", "application/json");
        var largestUser = await PostRawAsync(system, $"/api/coupon-policies/{policy}/requests", $$"""{"userId":{{long.MaxValue}}}""", "application/json");
        var coupons = await system.Api.GetAsync($"/api/users/{long.MaxValue}/coupons", Ct);
        var badRequestId = await system.Api.GetAsync("/api/coupon-requests/not-an-id", Ct);

        largestPolicy.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        largestUser.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        coupons.StatusCode.ShouldBe(HttpStatusCode.OK);
        badRequestId.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        badRequestId.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
    }

    [Fact(Timeout = Timeouts.System)]
    public async Task A_body_over_the_limit_is_413_and_a_wrong_content_type_is_415()
    {
        var system = shared.System;
        var policy = await system.CreatePolicyAsync(5);
        var written = await shared.WrittenAsync();
        var huge = $$"""{"userId":5,"padding":"{{new string('x', 64 * 1024)}}"}""";

        var tooLarge = await PostRawAsync(system, $"/api/coupon-policies/{policy}/requests", huge, "application/json");
        var plain = await PostRawAsync(system, $"/api/coupon-policies/{policy}/requests", """{"userId":5}""", "text/plain");
        var form = await PostRawAsync(system, "/api/coupon-policies", "name=x&totalQuantity=3", "application/x-www-form-urlencoded");

        tooLarge.StatusCode.ShouldBe(HttpStatusCode.RequestEntityTooLarge);
        tooLarge.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        plain.StatusCode.ShouldBe(HttpStatusCode.UnsupportedMediaType);
        plain.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        form.StatusCode.ShouldBe(HttpStatusCode.UnsupportedMediaType);
        (await shared.WrittenAsync()).ShouldBe(written, "nothing written, nothing published");
    }

    public static TheoryData<string, string> BadPolicies() => new()
    {
        { """{"totalQuantity":3}""", "name" },
        { """{"name":"   ","totalQuantity":3}""", "name" },
        { $$"""{"name":"{{new string('n', 201)}}","totalQuantity":3}""", "name" },
        { """{"name":"x"}""", "totalQuantity" },
        { """{"name":"x","totalQuantity":0}""", "totalQuantity" },
        { """{"name":"x","totalQuantity":-5}""", "totalQuantity" },
        { """{"name":"x","totalQuantity":2147483648}""", "totalQuantity" },
        { """{"name":"x","totalQuantity":"3"}""", "totalQuantity" },
        { """{"name":"x","totalQuantity":3,"startsAt":"soon"}""", "startsAt" },
        { """{"name":"x","totalQuantity":3,"startsAt":"2026-02-01T00:00:00Z","endsAt":"2026-01-01T00:00:00Z"}""", "endsAt" },
        { """{"name":"x","totalQuantity":3,"issuedCount":3}""", "issuedCount" },
    };

    [Theory(Timeout = Timeouts.System)]
    [MemberData(nameof(BadPolicies))]
    public async Task A_bad_policy_is_a_400_naming_the_field_and_creates_nothing(string body, string field)
    {
        var system = shared.System;
        var written = await shared.WrittenAsync();

        var response = await PostRawAsync(system, "/api/coupon-policies", body, "application/json");

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, await response.Content.ReadAsStringAsync(Ct));
        (await ApiContractTests.ProblemErrors(response)).ShouldContainKey(field);
        (await shared.WrittenAsync()).ShouldBe(written, "no policy created");
    }

    [Fact(Timeout = Timeouts.System)]
    public async Task Random_input_to_the_request_endpoint_never_gets_a_5xx_or_writes_anything()
    {
        var system = shared.System;
        var policy = await system.CreatePolicyAsync(5);
        var written = await shared.WrittenAsync();
        var random = new Random(20261123);
        string[] contentTypes = ["application/json", "application/json; charset=utf-8", "text/plain", "application/xml", "", "application/json; charset=latin1"];
        string[] paths = [$"{policy}", "0", "-3", "x", "99999999999999999999", $"{policy}%00", $"{policy}/../1", "%FF"];

        var accepted = 0;
        for (var i = 0; i < 400; i++)
        {
            var body = RandomBody(random);
            var response = await PostRawAsync(system, $"/api/coupon-policies/{paths[random.Next(paths.Length)]}/requests", body, contentTypes[random.Next(contentTypes.Length)]);

            accepted += response.StatusCode == HttpStatusCode.Accepted ? 1 : 0;
            ((int)response.StatusCode).ShouldBeLessThan(500, $"body: {body}");
            if ((int)response.StatusCode >= 400 && response.StatusCode != HttpStatusCode.NotFound)
            {
                response.Content.Headers.ContentType?.MediaType.ShouldBe("application/problem+json", $"body: {body}");
            }
        }

        // Bodies that happened to be valid (a positive userId and nothing else) were accepted, each published once;
        // nothing else was published or written.
        (await shared.WrittenAsync()).ShouldBe(written with { Item3 = written.Published + accepted });
        TestContext.Current.TestOutputHelper?.WriteLine($"{accepted} random bodies were valid requests");
    }

    private static string RandomBody(Random random)
    {
        string[] values = ["0", "-1", "1", "42", "9223372036854775807", "9223372036854775808", "1.0", "1e2", "\"7\"", "null", "true", "[]", "{}", "\"\\u0000\"", "NaN"];
        string[] keys = ["userId", "UserId", "userid", "user_id", "", "policyId", "userId\\u0000", "__proto__"];
        return random.Next(6) switch
        {
            0 => "{" + string.Join(',', Enumerable.Range(0, random.Next(0, 4)).Select(_ => $"\"{keys[random.Next(keys.Length)]}\":{values[random.Next(values.Length)]}")) + "}",
            1 => $$"""{"userId":{{values[random.Next(values.Length)]}}}""",
            2 => new string((char)random.Next(32, 127), random.Next(0, 50)),
            3 => Encoding.Latin1.GetString(Enumerable.Range(0, random.Next(1, 40)).Select(_ => (byte)random.Next(256)).ToArray()),
            4 => $$"""{"userId":{{values[random.Next(values.Length)]}}""",
            _ => "[" + string.Join(',', Enumerable.Range(0, random.Next(0, 3)).Select(_ => values[random.Next(values.Length)])) + "]",
        };
    }

    private static async Task<HttpResponseMessage> PostRawAsync(CouponSystem system, string path, string body, string contentType)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        if (contentType.Length > 0)
        {
            content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }

        return await system.Api.PostAsync(path, content, Ct);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;
}
