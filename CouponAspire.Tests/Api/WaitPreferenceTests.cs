using CouponAspire.Api.Requests;
using Microsoft.AspNetCore.Http;

namespace CouponAspire.Tests.Api;

/// <summary>How long a client asks to wait: RFC 7240's Prefer: wait, or ?wait for clients that cannot set a header.</summary>
public sealed class WaitPreferenceTests
{
    [Theory(Timeout = Timeouts.Unit)]
    [InlineData("wait=10", null, 10)]
    [InlineData("respond-async, wait=5", null, 5)]
    [InlineData("wait=\"7\"", null, 7)]
    [InlineData("Wait = 3; foo=bar", null, 3)]
    [InlineData("wait=30", null, 30)]
    [InlineData("wait=0", null, 0)]
    [InlineData("wait=10", "2", 2)]
    [InlineData(null, "12", 12)]
    [InlineData("handling=lenient", null, null)]
    [InlineData(null, null, null)]
    public void The_wait_asked_for_is_read_from_the_query_or_else_the_prefer_header(string? prefer, string? query, int? expected)
    {
        WaitPreference.TryRead(Request(prefer), query, out var seconds, out var problem).ShouldBeTrue();

        seconds.ShouldBe(expected);
        problem.ShouldBeNull();
    }

    [Theory(Timeout = Timeouts.Unit)]
    [InlineData("wait=abc", null)]
    [InlineData("wait=-1", null)]
    [InlineData("wait=31", null)]
    [InlineData("wait=1.5", null)]
    [InlineData("wait", null)]
    [InlineData(null, "abc")]
    [InlineData(null, "-1")]
    [InlineData(null, "100")]
    [InlineData(null, "")]
    public void A_wait_that_is_not_a_whole_number_of_seconds_up_to_thirty_is_a_problem_naming_wait(string? prefer, string? query)
    {
        WaitPreference.TryRead(Request(prefer), query, out _, out var problem).ShouldBeFalse();

        problem!.ProblemDetails.Errors.Keys.ShouldBe(["wait"]);
    }

    private static HttpRequest Request(string? prefer)
    {
        var context = new DefaultHttpContext();
        if (prefer is not null)
        {
            context.Request.Headers["Prefer"] = prefer;
        }

        return context.Request;
    }
}
