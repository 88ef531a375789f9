using BitFaster.Caching;
using BitFaster.Caching.Lru;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace CouponAspire.Api.Security;

/// <summary>
/// ASP.NET Core's JWT handler, remembering for a few seconds the tokens it found valid — never past their expiry — so
/// that a client sending the same token with every request pays for its parsing and signature check once in a while
/// rather than every time. A rejected token is never remembered; a remembered one is validated again once it leaves.
/// At most <see cref="Capacity"/> tokens are kept, in an LRU that evicts in constant time: a crowd of users with a token
/// each (a new one per request, as a flash sale's clients have) costs an insert and an eviction per request, never a
/// sweep of the whole cache.
/// </summary>
internal sealed class CachingJsonWebTokenHandler : JsonWebTokenHandler
{
    /// <summary>How long a valid token is remembered at most: also how long a changed signing key may take to apply.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(30);

    public const int Capacity = 10_000;

    private readonly ICache<string, Remembered> _validated = new ConcurrentLruBuilder<string, Remembered>()
        .WithCapacity(Capacity)
        .WithExpireAfterWrite(Lifetime)
        .Build();

    /// <summary>Tokens remembered now (at most <see cref="Capacity"/>).</summary>
    public int Count => _validated.Count;

    public override async Task<TokenValidationResult> ValidateTokenAsync(string token, TokenValidationParameters validationParameters)
    {
        if (_validated.TryGet(token, out var remembered) && DateTimeOffset.UtcNow < remembered.Until)
        {
            return remembered.Result;
        }

        var result = await base.ValidateTokenAsync(token, validationParameters);
        if (result.IsValid)
        {
            _validated.AddOrUpdate(token, new Remembered(result, RememberUntil(DateTimeOffset.UtcNow, result.SecurityToken.ValidTo)));
        }

        return result;
    }

    /// <summary>Until <see cref="Lifetime"/> from now, or the token's expiry if that comes first (no <c>exp</c>: <see cref="DateTime.MinValue"/>).</summary>
    public static DateTimeOffset RememberUntil(DateTimeOffset now, DateTime validTo)
    {
        var limit = now + Lifetime;
        return validTo == DateTime.MinValue || new DateTimeOffset(validTo, TimeSpan.Zero) > limit ? limit : new DateTimeOffset(validTo, TimeSpan.Zero);
    }

    private sealed record Remembered(TokenValidationResult Result, DateTimeOffset Until);
}
