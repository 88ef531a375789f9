using System.Text.Json;

namespace CouponAspire.LoadGenerator;

/// <summary>
/// Reads the few fields the sale needs from the issue endpoint's answers straight off the bytes: no objects, and the
/// known reasons as constants, because there are thousands of these answers a second.
/// </summary>
internal static class IssueResponses
{
    public const string SoldOut = "SoldOut";
    public const string PolicyNotOpen = "PolicyNotOpen";

    /// <summary>The <c>requestId</c> of a 202's <c>{"requestId":"…","status":"Pending"}</c>; false if there is none.</summary>
    public static bool TryReadAccepted(ReadOnlySpan<byte> json, out Guid requestId)
    {
        (_, requestId) = Read(json);
        return requestId != Guid.Empty;
    }

    /// <summary>The <c>reason</c> (409) and <c>requestId</c> (503 with an unknown outcome) of a problem details body, where present.</summary>
    public static (string? Reason, Guid RequestId) ReadProblem(ReadOnlySpan<byte> json) => Read(json);

    private static (string? Reason, Guid RequestId) Read(ReadOnlySpan<byte> json)
    {
        string? reason = null;
        var requestId = Guid.Empty;
        var reader = new Utf8JsonReader(json);
        while (reader.Read())
        {
            // Top-level properties only: a problem's "errors" may nest anything.
            if (reader.TokenType != JsonTokenType.PropertyName || reader.CurrentDepth != 1)
            {
                continue;
            }

            if (reader.ValueTextEquals("requestId"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String && reader.TryGetGuid(out var id))
                {
                    requestId = id;
                }
            }
            else if (reader.ValueTextEquals("reason"u8))
            {
                reader.Read();
                reason = reader.TokenType != JsonTokenType.String ? null
                    : reader.ValueTextEquals("SoldOut"u8) ? SoldOut
                    : reader.ValueTextEquals("PolicyNotOpen"u8) ? PolicyNotOpen
                    : reader.GetString();
            }
        }

        return (reason, requestId);
    }
}
