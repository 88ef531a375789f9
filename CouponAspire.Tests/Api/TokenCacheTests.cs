using CouponAspire.Api.Security;
using CouponAspire.LocalInfrastructure;
using Microsoft.IdentityModel.Tokens;

namespace CouponAspire.Tests.Api;

/// <summary>
/// Valid tokens are remembered from their second use, briefly and never past their expiry; tokens used once and rejected
/// ones are never remembered.
/// </summary>
public sealed class TokenCacheTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact(Timeout = Timeouts.Unit)]
    public void A_token_is_remembered_for_the_lifetime_at_most_and_never_past_its_expiry()
    {
        CachingJsonWebTokenHandler.RememberUntil(Now, Now.AddHours(1).UtcDateTime).ShouldBe(Now + CachingJsonWebTokenHandler.Lifetime);
        CachingJsonWebTokenHandler.RememberUntil(Now, Now.AddSeconds(5).UtcDateTime).ShouldBe(Now.AddSeconds(5));
        CachingJsonWebTokenHandler.RememberUntil(Now, DateTime.MinValue).ShouldBe(Now + CachingJsonWebTokenHandler.Lifetime, "a token without exp");
    }

    [Fact(Timeout = Timeouts.Unit)]
    public async Task A_valid_token_is_remembered_from_its_second_use_and_a_forged_one_never()
    {
        var tokens = new DevelopmentTokens(DevelopmentTokens.NewSigningKey());
        var parameters = ParametersOf(tokens);
        var handler = new CachingJsonWebTokenHandler();
        var token = tokens.ForUser(7);
        var forged = new DevelopmentTokens(DevelopmentTokens.NewSigningKey()).ForUser(7);

        var first = await handler.ValidateTokenAsync(token, parameters);
        var countAfterFirst = handler.Count;
        var second = await handler.ValidateTokenAsync(token, parameters);
        var third = await handler.ValidateTokenAsync(token, parameters);
        var forgedFirst = await handler.ValidateTokenAsync(forged, parameters);
        var forgedSecond = await handler.ValidateTokenAsync(forged, parameters);
        var forgedThird = await handler.ValidateTokenAsync(forged, parameters);

        first.IsValid.ShouldBeTrue();
        countAfterFirst.ShouldBe(0, "a token used once is not remembered");
        second.IsValid.ShouldBeTrue();
        second.ShouldNotBeSameAs(first, "the second use is validated again");
        third.ShouldBeSameAs(second, "from the third on, the token is answered from memory");
        handler.Count.ShouldBe(1);
        forgedFirst.IsValid.ShouldBeFalse();
        forgedThird.IsValid.ShouldBeFalse();
        forgedThird.ShouldNotBeSameAs(forgedSecond, "a rejected token is checked every time");
        forgedSecond.IsValid.ShouldBeFalse();
        forgedSecond.ShouldNotBeSameAs(forgedFirst, "a rejected token is checked again");
    }

    [Fact(Timeout = Timeouts.Unit)]
    public async Task A_crowd_whose_tokens_are_each_used_once_leaves_nothing_remembered()
    {
        var tokens = new DevelopmentTokens(DevelopmentTokens.NewSigningKey());
        var minter = tokens.UserMinter();
        var parameters = ParametersOf(tokens);
        var handler = new CachingJsonWebTokenHandler();
        var valid = 0;

        await Parallel.ForAsync(1, CachingJsonWebTokenHandler.Capacity + 1, TestContext.Current.CancellationToken, async (user, _) =>
        {
            if ((await handler.ValidateTokenAsync(minter.ForUser(user), parameters)).IsValid)
            {
                Interlocked.Increment(ref valid);
            }
        });

        valid.ShouldBe(CachingJsonWebTokenHandler.Capacity);
        handler.Count.ShouldBeLessThan(CachingJsonWebTokenHandler.Capacity / 100, "only a hash collision remembers a token at its first use");
    }

    [Fact(Timeout = Timeouts.Unit)]
    public async Task Twenty_times_the_capacity_in_distinct_users_tokens_leave_no_more_than_the_capacity_remembered()
    {
        var tokens = new DevelopmentTokens(DevelopmentTokens.NewSigningKey());
        var minter = tokens.UserMinter();
        var parameters = ParametersOf(tokens);
        var handler = new CachingJsonWebTokenHandler();
        var valid = 0;
        var largest = 0;

        const int users = CachingJsonWebTokenHandler.Capacity * 20;
        await Parallel.ForAsync(1, users + 1, TestContext.Current.CancellationToken, async (user, _) =>
        {
            var token = minter.ForUser(user);
            if ((await handler.ValidateTokenAsync(token, parameters)).IsValid && (await handler.ValidateTokenAsync(token, parameters)).IsValid)
            {
                Interlocked.Increment(ref valid);
            }

            if (user % 1_000 == 0)
            {
                var count = handler.Count;
                int seen;
                while (count > (seen = Volatile.Read(ref largest)) && Interlocked.CompareExchange(ref largest, count, seen) != seen)
                {
                }
            }
        });

        // The LRU evicts as it inserts, without a lock: inserts racing on every core may pass its capacity by a few, never more.
        var bound = CachingJsonWebTokenHandler.Capacity * 101 / 100;
        valid.ShouldBe(users);
        largest.ShouldBeGreaterThan(CachingJsonWebTokenHandler.Capacity / 2, "the cache was in use");
        largest.ShouldBeLessThanOrEqualTo(bound);
        handler.Count.ShouldBeLessThanOrEqualTo(bound);
    }

    private static TokenValidationParameters ParametersOf(DevelopmentTokens tokens) => new()
    {
        ValidIssuer = tokens.Issuer,
        ValidAudience = tokens.Audience,
        IssuerSigningKey = new SymmetricSecurityKey(Convert.FromBase64String(tokens.SigningKey)),
    };
}
