using System.Text;
using CouponAspire.LoadGenerator;

namespace CouponAspire.Tests.LoadGenerator;

public sealed class IssueAnswerTests
{
    [Fact(Timeout = Timeouts.Unit)]
    public void An_accepted_answer_gives_its_request_id()
    {
        var id = Guid.CreateVersion7().ToString();

        IssueAnswer.Read(Utf8($$"""{"requestId":"{{id}}","status":"Pending"}""")).RequestId.ShouldBe(id);
    }

    [Fact(Timeout = Timeouts.Unit)]
    public void An_accepted_answer_without_a_request_id_has_none()
    {
        IssueAnswer.Read(Utf8("""{"status":"Pending"}""")).RequestId.ShouldBeNull();
    }

    [Fact(Timeout = Timeouts.Unit)]
    public void A_sold_out_problem_gives_its_reason_and_no_request_id()
    {
        var answer = IssueAnswer.Read(Utf8(
            """{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.10","title":"Sold out","status":409,"detail":"Every coupon of policy 3 has been issued.","reason":"SoldOut","traceId":"00-1-2-01"}"""));

        answer.Reason.ShouldBe(IssueAnswer.SoldOut);
        answer.RequestId.ShouldBeNull();
    }

    [Fact(Timeout = Timeouts.Unit)]
    public void An_unknown_outcome_problem_gives_its_request_id_and_nested_fields_are_ignored()
    {
        var id = Guid.CreateVersion7().ToString();

        var answer = IssueAnswer.Read(Utf8(
            $$"""{"status":503,"errors":{"reason":["nested"],"requestId":"{{Guid.Empty}}"},"requestId":"{{id}}","reason":"Unforeseen"}"""));

        answer.Reason.ShouldBe("Unforeseen");
        answer.RequestId.ShouldBe(id);
    }

    private static byte[] Utf8(string json) => Encoding.UTF8.GetBytes(json);
}
