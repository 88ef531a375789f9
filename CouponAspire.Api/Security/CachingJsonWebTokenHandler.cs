using BitFaster.Caching;
using BitFaster.Caching.Lru;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace CouponAspire.Api.Security;

/// <summary>
/// ASP.NET Core's JWT handler, remembering for a few seconds the tokens it found valid — never past their expiry — so
/// that a client sending the same token with every request pays for its parsing and signature check once in a while
/// rather than every time. A rejected token is never remembered; a remembered one is validated again once it leaves.
/// At most <see cref="Capacity"/> tokens are kept, in an LRU that evicts in constant time, never by a sweep of the whole
/// cache. A token is remembered from its second use: the first only leaves its hash in a fixed table. A crowd whose
/// tokens are each used once (a stampede of fresh sessions) then keeps nothing: remembering each one kept its parsed token
/// and claims alive for seconds, long enough for the garbage collector to copy them into its oldest generation, and in a
/// flash sale that was most of what survived the API's collections.
/// </summary>
internal sealed class CachingJsonWebTokenHandler : JsonWebTokenHandler
{
    /// <summary>How long a valid token is remembered at most: also how long a changed signing key may take to apply.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(30);

    public const int Capacity = 10_000;

    /// <summary>Slots of the table of tokens seen once (a power of two; 8 bytes each, allocated once).</summary>
    private const int SeenOnceSlots = 1 << 16;

    private readonly ICache<string, Remembered> _validated = new ConcurrentLruBuilder<string, Remembered>()
        .WithCapacity(Capacity)
        .WithExpireAfterWrite(Lifetime)
        .Build();

    /// <summary>
    /// A hash of each token validated once, in the slot its hash picks. Without a lock: a race or a collision at worst
    /// remembers a token at its first use, or at its third, and a token is always validated before it is remembered.
    /// </summary>
    private readonly long[] _seenOnce = new long[SeenOnceSlots];

    /// <summary>Tokens remembered now (at most <see cref="Capacity"/>).</summary>
    public int Count => _validated.Count;

    public override async Task<TokenValidationResult> ValidateTokenAsync(string token, TokenValidationParameters validationParameters)
    {
        if (_validated.TryGet(token, out var remembered) && DateTimeOffset.UtcNow < remembered.Until)
        {
            return remembered.Result;
        }

        var result = await base.ValidateTokenAsync(token, validationParameters);
        if (result.IsValid && SeenBefore(token))
        {
            _validated.AddOrUpdate(token, new Remembered(result, RememberUntil(DateTimeOffset.UtcNow, result.SecurityToken.ValidTo)));
        }

        return result;
    }

    /// <summary>Whether the token was validated before; if not, notes that it now was.</summary>
    private bool SeenBefore(string token)
    {
        var hash = ((long)token.GetHashCode() << 32) | (uint)token.Length;
        ref var slot = ref _seenOnce[hash & (SeenOnceSlots - 1)];
        if (slot == hash)
        {
            return true;
        }

        slot = hash;
        return false;
    }

    /// <summary>Until <see cref="Lifetime"/> from now, or the token's expiry if that comes first (no <c>exp</c>: <see cref="DateTime.MinValue"/>).</summary>
    public static DateTimeOffset RememberUntil(DateTimeOffset now, DateTime validTo)
    {
        var limit = now + Lifetime;
        return validTo == DateTime.MinValue || new DateTimeOffset(validTo, TimeSpan.Zero) > limit ? limit : new DateTimeOffset(validTo, TimeSpan.Zero);
    }

    private sealed record Remembered(TokenValidationResult Result, DateTimeOffset Until);
}
