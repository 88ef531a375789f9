using System.Text.Json;
using System.Text.Json.Serialization;

namespace CouponAspire.LoadGenerator;

// The API's JSON as the administrator's calls read it (the issue endpoint's answers: IssueResponses); a copy of the
// contract rather than a reference to the API, as any client has.

internal sealed record CreatePolicyBody(string Name, int TotalQuantity, DateTimeOffset? StartsAt, DateTimeOffset? EndsAt);

internal sealed record PolicyView(
    long Id, string Name, int TotalQuantity, int IssuedCount, int RemainingQuantity, bool SoldOut, DateTimeOffset? StartsAt, DateTimeOffset? EndsAt, DateTimeOffset CreatedAt);

internal sealed record RequestStatusView(
    Guid RequestId, long PolicyId, long UserId, string Status, string? Reason, long? CouponId, DateTimeOffset RequestedAt, DateTimeOffset? DecidedAt)
{
    public const string Pending = "Pending";
    public const string Issued = "Issued";

    public bool Decided => Status != Pending && DecidedAt is not null;

    /// <summary>What the report counts: <c>Issued</c>, or the reason of a rejection.</summary>
    public string Kind => Status == Issued ? Issued : Reason ?? Status;
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(CreatePolicyBody))]
[JsonSerializable(typeof(PolicyView))]
[JsonSerializable(typeof(RequestStatusView))]
internal sealed partial class ApiJson : JsonSerializerContext;
