using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace CouponAspire.Contracts.Events;

/// <summary>
/// The wire format of <see cref="CouponDecided"/>: the key is the policy id (<see cref="CouponTopics.KeyFor"/>), the
/// value one flat camelCase JSON object. Decoding is strict about what a reader needs and tolerant of fields it does not
/// know, so the format can grow.
/// </summary>
public static class CouponDecidedCodec
{
    public static byte[] Serialize(CouponDecided message) =>
        JsonSerializer.SerializeToUtf8Bytes(message, CouponEventsJsonContext.Default.CouponDecided);

    /// <summary>Reads a message, or says in <paramref name="error"/> why it cannot be read.</summary>
    public static bool TryDecode(
        string? key,
        ReadOnlySpan<byte> value,
        [NotNullWhen(true)] out CouponDecided? message,
        [NotNullWhen(false)] out string? error)
    {
        message = null;
        CouponDecidedWire? wire;
        try
        {
            wire = JsonSerializer.Deserialize(value, CouponEventsJsonContext.Default.CouponDecidedWire);
        }
        catch (JsonException e)
        {
            error = $"The value is not a CouponDecided JSON object: {e.Message}";
            return false;
        }

        error = Validate(key, wire);
        if (error is not null)
        {
            return false;
        }

        message = new CouponDecided(
            wire!.RequestId!,
            wire.PolicyId!.Value,
            wire.UserId!.Value,
            wire.Status!,
            wire.Reason,
            wire.CouponId,
            wire.RequestedAt!.Value.ToUniversalTime(),
            wire.DecidedAt!.Value.ToUniversalTime(),
            wire.RemainingQuantity,
            wire.Version!.Value);
        return true;
    }

    private static string? Validate(string? key, CouponDecidedWire? wire) => wire switch
    {
        null => "The value is JSON null.",
        { Version: null } => "version is missing.",
        { Version: not CouponDecided.CurrentVersion } => $"version {wire.Version} is not supported (this reader reads version {CouponDecided.CurrentVersion}).",
        { RequestId: null or "" } => "requestId is missing.",
        { PolicyId: null or <= 0 } => "policyId must be a positive 64-bit integer.",
        { UserId: null or <= 0 } => "userId must be a positive 64-bit integer.",
        { Status: RequestStatuses.Issued, Reason: not null } => "an Issued decision has no reason.",
        { Status: RequestStatuses.Rejected } when !Enum.TryParse<IssuanceOutcome>(wire.Reason, out var reason) || reason == IssuanceOutcome.Issued
            => $"reason '{wire.Reason}' is not a reason for a rejection.",
        { Status: not (RequestStatuses.Issued or RequestStatuses.Rejected) } => $"status '{wire.Status}' is neither {RequestStatuses.Issued} nor {RequestStatuses.Rejected}.",
        { RequestedAt: null } => "requestedAt is missing.",
        { DecidedAt: null } => "decidedAt is missing.",
        { RemainingQuantity: < 0 } => "remainingQuantity is negative.",
        _ when key != CouponTopics.KeyFor(wire.PolicyId.Value) => $"The key '{key}' does not match policyId {wire.PolicyId}.",
        _ => null,
    };
}

/// <summary>What may arrive on <c>coupon-decisions</c>: every field optional, so that a missing one gets a precise reason.</summary>
internal sealed class CouponDecidedWire
{
    public string? RequestId { get; set; }

    public long? PolicyId { get; set; }

    public long? UserId { get; set; }

    public string? Status { get; set; }

    public string? Reason { get; set; }

    public long? CouponId { get; set; }

    public DateTimeOffset? RequestedAt { get; set; }

    public DateTimeOffset? DecidedAt { get; set; }

    public int? RemainingQuantity { get; set; }

    public int? Version { get; set; }
}
