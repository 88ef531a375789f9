using Microsoft.Extensions.Caching.Memory;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace CouponAspire.Api.Security;

/// <summary>
/// ASP.NET Core's JWT handler, remembering for a few seconds the tokens it found valid — never past their expiry — so
/// that a client sending the same token with every request pays for its parsing and signature check once in a while
/// rather than every time. A rejected token is never remembered; a remembered one is validated again once it leaves.
/// </summary>
internal sealed class CachingJsonWebTokenHandler : JsonWebTokenHandler, IDisposable
{
    /// <summary>How long a valid token is remembered at most: also how long a changed signing key may take to apply.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(30);

    private const int Capacity = 10_000;

    private readonly MemoryCache _validated = new(new MemoryCacheOptions { SizeLimit = Capacity });

    public override async Task<TokenValidationResult> ValidateTokenAsync(string token, TokenValidationParameters validationParameters)
    {
        if (_validated.TryGetValue(token, out TokenValidationResult? remembered) && remembered is not null)
        {
            return remembered;
        }

        var result = await base.ValidateTokenAsync(token, validationParameters);
        if (result.IsValid)
        {
            _validated.Set(token, result, new MemoryCacheEntryOptions
            {
                AbsoluteExpiration = RememberUntil(DateTimeOffset.UtcNow, result.SecurityToken.ValidTo),
                Size = 1,
            });
        }

        return result;
    }

    /// <summary>Until <see cref="Lifetime"/> from now, or the token's expiry if that comes first (no <c>exp</c>: <see cref="DateTime.MinValue"/>).</summary>
    public static DateTimeOffset RememberUntil(DateTimeOffset now, DateTime validTo)
    {
        var limit = now + Lifetime;
        return validTo == DateTime.MinValue || new DateTimeOffset(validTo, TimeSpan.Zero) > limit ? limit : new DateTimeOffset(validTo, TimeSpan.Zero);
    }

    public void Dispose() => _validated.Dispose();
}
