using System.Buffers.Binary;
using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace CouponAspire.Api.Requests;

/// <summary>What a request id says about the request it names, once its signature has been checked.</summary>
public readonly record struct SignedRequest(string RequestId, long PolicyId, long UserId, DateTimeOffset RequestedAt);

/// <summary>
/// Request ids that prove themselves: the API signs what it accepted — when, which policy, which user — into the id it
/// hands out, so that answering "Pending" for an accepted request needs no write anywhere: an id with a valid
/// signature was made by an API instance with the same key, and one that was altered or made up is not. 55 URL-safe
/// characters (base64url of a format byte, the time in ticks, the policy, the user, 4 random bytes and 12 bytes of
/// HMAC-SHA256). The time comes first, so that ids made one after another sort close together in an index. Every API
/// instance needs the same key (<see cref="RequestIdOptions.Key"/>).
/// </summary>
internal sealed partial class RequestIds
{
    private const byte Format = 1;
    private const int SignedLength = 1 + 8 + 8 + 8 + 4;
    private const int MacLength = 12;
    private const int ByteLength = SignedLength + MacLength;

    /// <summary>The length of every id this class makes (the contract allows up to 64).</summary>
    public static readonly int Length = Base64Url.GetEncodedLength(ByteLength);

    private readonly byte[] _key;

    public RequestIds(IOptions<RequestIdOptions> options, IHostEnvironment environment, ILogger<RequestIds> logger)
    {
        if (options.Value.Key is { Length: > 0 } configured)
        {
            _key = Convert.FromBase64String(configured);
            if (_key.Length < RequestIdOptions.MinKeyBytes)
            {
                throw new InvalidOperationException($"{RequestIdOptions.SectionName}:Key must be at least {RequestIdOptions.MinKeyBytes} bytes (base64).");
            }
        }
        else if (environment.IsDevelopment())
        {
            _key = RandomNumberGenerator.GetBytes(32);
            LogEphemeralKey(logger, RequestIdOptions.SectionName);
        }
        else
        {
            // Without a shared key, every id handed out would read as not found after a restart, and on any other instance.
            throw new InvalidOperationException(
                $"No {RequestIdOptions.SectionName}:Key configured: set it (base64, at least {RequestIdOptions.MinKeyBytes} bytes, the same on every API instance).");
        }
    }

    public string Create(long policyId, long userId, DateTimeOffset requestedAt)
    {
        Span<byte> id = stackalloc byte[ByteLength];
        id[0] = Format;
        BinaryPrimitives.WriteInt64BigEndian(id[1..], requestedAt.UtcTicks);
        BinaryPrimitives.WriteInt64BigEndian(id[9..], policyId);
        BinaryPrimitives.WriteInt64BigEndian(id[17..], userId);
        // Tells apart ids of the same user, policy and tick; the signature, not these bytes, is what cannot be guessed.
        BinaryPrimitives.WriteInt32BigEndian(id[25..], Random.Shared.Next());
        Sign(id[..SignedLength], id[SignedLength..]);
        return Base64Url.EncodeToString(id);
    }

    /// <summary>Reads an id this API made; false for anything else (malformed, altered, made with another key).</summary>
    public bool TryRead([NotNullWhen(true)] string? requestId, out SignedRequest request)
    {
        request = default;
        Span<byte> id = stackalloc byte[ByteLength + 3];
        if (requestId is null
            || requestId.Length != Length
            || Base64Url.DecodeFromChars(requestId, id, out _, out var written) != System.Buffers.OperationStatus.Done
            || written != ByteLength
            || id[0] != Format
            || !IsCanonical(requestId, id[..ByteLength]))
        {
            return false;
        }

        Span<byte> mac = stackalloc byte[MacLength];
        Sign(id[..SignedLength], mac);
        if (!CryptographicOperations.FixedTimeEquals(mac, id.Slice(SignedLength, MacLength)))
        {
            return false;
        }

        var ticks = BinaryPrimitives.ReadInt64BigEndian(id[1..]);
        if (ticks < 0 || ticks > DateTimeOffset.MaxValue.UtcTicks)
        {
            return false;
        }

        request = new SignedRequest(
            requestId, BinaryPrimitives.ReadInt64BigEndian(id[9..]), BinaryPrimitives.ReadInt64BigEndian(id[17..]), new DateTimeOffset(ticks, TimeSpan.Zero));
        return true;
    }

    /// <summary>
    /// Whether the text is the one encoding of these bytes: the last character also carries two bits that decoding
    /// ignores, and an id altered there must not read as the original.
    /// </summary>
    private static bool IsCanonical(string requestId, ReadOnlySpan<byte> id)
    {
        Span<char> encoded = stackalloc char[requestId.Length];
        return Base64Url.TryEncodeToChars(id, encoded, out var length) && encoded[..length].SequenceEqual(requestId);
    }

    private void Sign(ReadOnlySpan<byte> signed, Span<byte> mac)
    {
        Span<byte> full = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(_key, signed, full);
        full[..MacLength].CopyTo(mac);
    }

    [LoggerMessage(LogLevel.Warning, "No {Section}:Key configured (Development only): request ids are signed with a key of this process alone, so every id it hands out reads as not found, decided or not, once it restarts, and on any other instance")]
    private static partial void LogEphemeralKey(ILogger logger, string section);
}

/// <summary>Options of the <c>CouponApi:RequestIds</c> section.</summary>
public sealed class RequestIdOptions
{
    public const string SectionName = CouponApiOptions.SectionName + ":RequestIds";
    public const int MinKeyBytes = 32;

    /// <summary>The key request ids are signed with, base64 (at least 32 bytes); the same on every API instance.</summary>
    public string? Key { get; set; }
}
