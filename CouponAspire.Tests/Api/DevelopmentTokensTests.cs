using CouponAspire.LocalInfrastructure;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace CouponAspire.Tests.Api;

/// <summary>The load generator's quick user tokens are the tokens the API trusts, with the claims of the ordinary ones.</summary>
public sealed class DevelopmentTokensTests
{
    [Fact(Timeout = Timeouts.Unit)]
    public async Task A_user_token_minted_quickly_validates_like_one_minted_by_the_standard_handler()
    {
        var tokens = new DevelopmentTokens(DevelopmentTokens.NewSigningKey());
        var parameters = new TokenValidationParameters
        {
            ValidIssuer = tokens.Issuer,
            ValidAudience = tokens.Audience,
            IssuerSigningKey = new SymmetricSecurityKey(Convert.FromBase64String(tokens.SigningKey)),
        };
        var handler = new JsonWebTokenHandler { MapInboundClaims = false };

        var quick = await handler.ValidateTokenAsync(tokens.UserMinter().ForUser(1234567890123), parameters);
        var standard = await handler.ValidateTokenAsync(tokens.ForUser(1234567890123), parameters);
        var otherKey = await handler.ValidateTokenAsync(new DevelopmentTokens(DevelopmentTokens.NewSigningKey()).UserMinter().ForUser(5), parameters);

        quick.IsValid.ShouldBeTrue(quick.Exception?.Message);
        quick.ClaimsIdentity.FindFirst("sub")!.Value.ShouldBe("1234567890123");
        quick.Claims.Keys.Order().ShouldBe(standard.Claims.Keys.Order());
        otherKey.IsValid.ShouldBeFalse();
    }
}
