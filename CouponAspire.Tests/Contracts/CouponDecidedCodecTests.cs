using System.Text;
using System.Text.Json;

namespace CouponAspire.Tests.Contracts;

/// <summary>The wire format of coupon-decisions: what a subscriber reads, and what it refuses to read.</summary>
public sealed class CouponDecidedCodecTests
{
    private static readonly CouponDecided Issued = CouponDecided.Of(
        "AQjfU46yMy6GAAAAAAAAAAEAAAAAAAAAAQQQaz9bSeyj69McITGeTI0", 17, 42, IssuanceOutcome.Issued, 7, new DateTimeOffset(2026, 12, 6, 9, 0, 0, 123, TimeSpan.Zero),
        new DateTimeOffset(2026, 12, 6, 9, 0, 0, 140, TimeSpan.Zero), 99);

    [Fact(Timeout = Timeouts.Unit)]
    public void A_decision_is_one_flat_camel_case_object_with_every_field_of_the_contract()
    {
        using var json = JsonDocument.Parse(CouponDecidedCodec.Serialize(Issued with { Reason = null }));

        json.RootElement.EnumerateObject().Select(p => p.Name).ShouldBe(
            ["requestId", "policyId", "userId", "status", "reason", "couponId", "requestedAt", "decidedAt", "remainingQuantity", "version"], ignoreOrder: true);
        json.RootElement.GetProperty("status").GetString().ShouldBe("Issued");
        json.RootElement.GetProperty("reason").ValueKind.ShouldBe(JsonValueKind.Null);
        json.RootElement.GetProperty("remainingQuantity").GetInt32().ShouldBe(99);
        json.RootElement.GetProperty("version").GetInt32().ShouldBe(1);
    }

    [Theory(Timeout = Timeouts.Unit)]
    [InlineData(IssuanceOutcome.Issued, "Issued", null)]
    [InlineData(IssuanceOutcome.SoldOut, "Rejected", "SoldOut")]
    [InlineData(IssuanceOutcome.AlreadyIssued, "Rejected", "AlreadyIssued")]
    [InlineData(IssuanceOutcome.Withdrawn, "Rejected", "Withdrawn")]
    public void A_decision_reads_back_as_it_was_written(IssuanceOutcome outcome, string status, string? reason)
    {
        var decision = CouponDecided.Of(Issued.RequestId, 17, 42, outcome, null, Issued.RequestedAt, Issued.DecidedAt, 0);

        CouponDecidedCodec.TryDecode("17", CouponDecidedCodec.Serialize(decision), out var read, out var error).ShouldBeTrue(error);

        read.ShouldBe(decision);
        read.Status.ShouldBe(status);
        read.Reason.ShouldBe(reason);
        read.Outcome.ShouldBe(outcome);
    }

    [Theory(Timeout = Timeouts.Unit)]
    [InlineData("18", null, "does not match policyId")]
    [InlineData("17", """{"version":2}""", "version 2 is not supported")]
    [InlineData("17", """{"status":"Pending"}""", "neither Issued nor Rejected")]
    [InlineData("17", """{"status":"Issued","reason":"SoldOut"}""", "no reason")]
    [InlineData("17", """{"status":"Rejected","reason":"Issued"}""", "not a reason for a rejection")]
    [InlineData("17", """{"status":"Rejected","reason":"Bored"}""", "not a reason for a rejection")]
    [InlineData("17", """{"decidedAt":null}""", "decidedAt is missing")]
    [InlineData("17", """{"remainingQuantity":-1}""", "negative")]
    [InlineData("17", """{"userId":0}""", "userId")]
    public void A_decision_a_reader_cannot_trust_is_refused_with_the_reason(string key, string? change, string reason)
    {
        var value = Encoding.UTF8.GetBytes(Merge(CouponDecidedCodec.Serialize(Issued), change));

        CouponDecidedCodec.TryDecode(key, value, out _, out var error).ShouldBeFalse();

        error.ShouldContain(reason);
    }

    [Fact(Timeout = Timeouts.Unit)]
    public void Fields_a_reader_does_not_know_are_ignored_so_that_the_format_can_grow()
    {
        var value = Encoding.UTF8.GetBytes(Merge(CouponDecidedCodec.Serialize(Issued), """{"campaign":"winter"}"""));

        CouponDecidedCodec.TryDecode("17", value, out var read, out var error).ShouldBeTrue(error);
        read.ShouldBe(Issued);
    }

    /// <summary>The serialized decision with some fields replaced or added.</summary>
    private static string Merge(byte[] serialized, string? change)
    {
        var fields = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(serialized)!;
        foreach (var (name, value) in change is null ? [] : JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(change)!)
        {
            fields[name] = value;
        }

        return JsonSerializer.Serialize(fields);
    }
}
