using System.Text.Json;
using System.Text.Json.Serialization;

namespace CouponAspire.LoadGenerator;

// The API's JSON as the load generator reads it: a copy of the contract rather than a reference to the API, as any
// client has.

internal sealed record CreatePolicyBody(string Name, int TotalQuantity, DateTimeOffset? StartsAt, DateTimeOffset? EndsAt);

internal sealed record PolicyView(
    long Id, string Name, int TotalQuantity, int IssuedCount, int RemainingQuantity, bool SoldOut, DateTimeOffset? StartsAt, DateTimeOffset? EndsAt, DateTimeOffset CreatedAt);

internal sealed record RequestStatusView(
    string RequestId, long PolicyId, long UserId, string Status, string? Reason, long? CouponId, DateTimeOffset RequestedAt, DateTimeOffset? DecidedAt)
{
    public const string Pending = "Pending";
    public const string Issued = "Issued";

    public bool Decided => Status != Pending && DecidedAt is not null;

    /// <summary>What the report counts: <c>Issued</c>, or the reason of a rejection.</summary>
    public string Kind => Status == Issued ? Issued : Reason ?? Status;
}

/// <summary>
/// What the sale reads from the issue endpoint's answers: a 202's <c>requestId</c>, a problem's <c>reason</c> (409) or
/// <c>requestId</c> (503 with an unknown outcome). Top-level fields only: a problem's <c>errors</c> may nest anything.
/// </summary>
internal sealed record IssueAnswer(string? RequestId, string? Reason)
{
    public const string SoldOut = "SoldOut";

    private static readonly IssueAnswer Nothing = new(null, null);

    public static IssueAnswer Read(ReadOnlySpan<byte> json) => JsonSerializer.Deserialize(json, ApiJson.Default.IssueAnswer) ?? Nothing;
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(IssueAnswer))]
[JsonSerializable(typeof(CreatePolicyBody))]
[JsonSerializable(typeof(PolicyView))]
[JsonSerializable(typeof(RequestStatusView))]
internal sealed partial class ApiJson : JsonSerializerContext;
