using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace CouponAspire.Contracts.Events;

/// <summary>
/// The wire format of <see cref="CouponRequested"/>: the key is the policy id (<see cref="CouponTopics.KeyFor"/>), the
/// value one flat camelCase JSON object. Decoding is strict about what this code needs (ids, timestamp,
/// version, key matching the policy) and tolerant of fields it does not know, so the format can grow.
/// </summary>
public static class CouponRequestedCodec
{
    public static byte[] Serialize(CouponRequested message) =>
        JsonSerializer.SerializeToUtf8Bytes(message, CouponEventsJsonContext.Default.CouponRequested);

    /// <summary>Reads a message, or says in <paramref name="error"/> why it can never be processed.</summary>
    public static bool TryDecode(
        string? key,
        ReadOnlySpan<byte> value,
        [NotNullWhen(true)] out CouponRequested? message,
        [NotNullWhen(false)] out string? error)
    {
        message = null;
        CouponRequestedWire? wire;
        try
        {
            wire = JsonSerializer.Deserialize(value, CouponEventsJsonContext.Default.CouponRequestedWire);
        }
        catch (JsonException e)
        {
            error = $"The value is not a CouponRequested JSON object: {e.Message}";
            return false;
        }

        error = Validate(key, wire);
        if (error is not null)
        {
            return false;
        }

        message = new CouponRequested(wire!.RequestId!, wire.PolicyId!.Value, wire.UserId!.Value, wire.RequestedAt!.Value.ToUniversalTime(), wire.Version!.Value);
        return true;
    }

    private static string? Validate(string? key, CouponRequestedWire? wire) => wire switch
    {
        null => "The value is JSON null.",
        { Version: null } => "version is missing.",
        _ when !CouponRequested.IsReadable(wire.Version.Value) => $"version {wire.Version} is not supported (this consumer reads versions 1 and {CouponRequested.CurrentVersion}).",
        { RequestId: null or "" } => "requestId is missing.",
        _ when wire.RequestId.Length > CouponRequested.MaxRequestIdLength => $"requestId is longer than {CouponRequested.MaxRequestIdLength} characters.",
        { PolicyId: null or <= 0 } => "policyId must be a positive 64-bit integer.",
        { UserId: null or <= 0 } => "userId must be a positive 64-bit integer.",
        { RequestedAt: null } => "requestedAt is missing.",
        _ when key != CouponTopics.KeyFor(wire.PolicyId.Value) => $"The key '{key}' does not match policyId {wire.PolicyId}: the message may be on another policy's partition.",
        _ => null,
    };
}

/// <summary>
/// What may arrive on the topic: every field optional, so that a missing one gets a precise reason. Settable properties
/// rather than a constructor: the serializer reads such a type on its quicker path.
/// </summary>
internal sealed class CouponRequestedWire
{
    public string? RequestId { get; set; }

    public long? PolicyId { get; set; }

    public long? UserId { get; set; }

    public DateTimeOffset? RequestedAt { get; set; }

    public int? Version { get; set; }
}

/// <summary>The serializer of both topics' messages, generated at build time: flat camelCase JSON, numbers as numbers.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(CouponRequested))]
[JsonSerializable(typeof(CouponRequestedWire))]
[JsonSerializable(typeof(CouponDecided))]
[JsonSerializable(typeof(CouponDecidedWire))]
internal sealed partial class CouponEventsJsonContext : JsonSerializerContext;
