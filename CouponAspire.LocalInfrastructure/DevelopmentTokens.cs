using System.Buffers.Text;
using System.Security.Claims;
using System.Security.Cryptography;
using CouponAspire.Contracts.Security;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace CouponAspire.LocalInfrastructure;

/// <summary>
/// Mints bearer tokens the API accepts when it is configured with the same symmetric signing key — the way
/// <c>dotnet user-jwts</c> works, for the local run, the tests and the load generator. Never for production, where
/// tokens come from the identity provider.
/// </summary>
public sealed class DevelopmentTokens(string signingKey, string issuer = DevelopmentTokens.DefaultIssuer, string audience = DevelopmentTokens.DefaultAudience)
{
    public const string DefaultIssuer = "couponaspire-dev";
    public const string DefaultAudience = "couponaspire-api";

    private static readonly JsonWebTokenHandler Handler = new();
    private readonly SigningCredentials _credentials = new(new SymmetricSecurityKey(Convert.FromBase64String(signingKey)), SecurityAlgorithms.HmacSha256);

    public string SigningKey { get; } = signingKey;
    public string Issuer { get; } = issuer;
    public string Audience { get; } = audience;

    public static string NewSigningKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>
    /// The configuration that makes the API's standard JWT bearer handler (section <c>Authentication:Schemes:Bearer</c>)
    /// trust these tokens, as keys for <c>IConfiguration</c> (use <c>__</c> for <c>:</c> in environment variables).
    /// </summary>
    public IReadOnlyDictionary<string, string?> ApiSettings() => new Dictionary<string, string?>
    {
        [BearerTokens.ValidIssuerKey] = Issuer,
        [BearerTokens.ValidAudienceKey] = Audience,
        [BearerTokens.SigningKeyIssuerKey] = Issuer,
        [BearerTokens.SigningKeyValueKey] = SigningKey,
    };

    public string ForUser(long userId, TimeSpan? lifetime = null) => Create(userId.ToString(System.Globalization.CultureInfo.InvariantCulture), [], lifetime);

    /// <summary>
    /// Mints users' tokens of the same shape as <see cref="ForUser"/> (the same claims, HS256) a hundred times cheaper:
    /// the header and every claim but the subject are encoded once, so a token is one small JSON write, its base64url and
    /// one HMAC. For a load generator, which mints a token for every new user while it drives the API at full speed.
    /// </summary>
    public UserTokenMinter UserMinter(TimeSpan? lifetime = null) => new(Convert.FromBase64String(SigningKey), Issuer, Audience, lifetime ?? TimeSpan.FromHours(8));

    public string ForAdmin(TimeSpan? lifetime = null) => Create("admin", [BearerTokens.AdminRole], lifetime);

    private string Create(string subject, IEnumerable<string> roles, TimeSpan? lifetime = null)
    {
        var claims = new List<Claim> { new(BearerTokens.SubjectClaim, subject) };
        claims.AddRange(roles.Select(role => new Claim(BearerTokens.RoleClaim, role)));
        var now = DateTime.UtcNow;
        return Handler.CreateToken(new SecurityTokenDescriptor
        {
            Subject = new ClaimsIdentity(claims),
            Issuer = Issuer,
            Audience = Audience,
            IssuedAt = now,
            NotBefore = now.AddMinutes(-1),
            Expires = now + (lifetime ?? TimeSpan.FromHours(8)),
            SigningCredentials = _credentials,
        });
    }
}

/// <summary>See <see cref="DevelopmentTokens.UserMinter"/>.</summary>
public sealed class UserTokenMinter
{
    private readonly byte[] _key;
    private readonly string _header;
    private readonly byte[] _claimsAfterSubject;

    internal UserTokenMinter(byte[] key, string issuer, string audience, TimeSpan lifetime)
    {
        _key = key;
        _header = Base64Url.EncodeToString("{\"alg\":\"HS256\",\"typ\":\"JWT\"}"u8);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        _claimsAfterSubject = System.Text.Encoding.UTF8.GetBytes(string.Create(
            System.Globalization.CultureInfo.InvariantCulture,
            $"\",\"iss\":{System.Text.Json.JsonSerializer.Serialize(issuer)},\"aud\":{System.Text.Json.JsonSerializer.Serialize(audience)},\"nbf\":{now - 60},\"exp\":{now + (long)lifetime.TotalSeconds},\"iat\":{now}}}"));
    }

    public string ForUser(long userId)
    {
        Span<byte> payload = stackalloc byte[64 + _claimsAfterSubject.Length];
        "{\"sub\":\""u8.CopyTo(payload);
        userId.TryFormat(payload[8..], out var digits, provider: System.Globalization.CultureInfo.InvariantCulture);
        _claimsAfterSubject.CopyTo(payload[(8 + digits)..]);
        payload = payload[..(8 + digits + _claimsAfterSubject.Length)];

        var signed = string.Concat(_header, ".", Base64Url.EncodeToString(payload));
        Span<byte> signature = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(_key, System.Text.Encoding.ASCII.GetBytes(signed), signature);
        return string.Concat(signed, ".", Base64Url.EncodeToString(signature));
    }
}
