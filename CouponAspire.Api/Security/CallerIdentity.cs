using System.Security.Claims;
using CouponAspire.Contracts.Security;

namespace CouponAspire.Api.Security;

/// <summary>
/// Who is calling, from the bearer token: a user (subject = the user id, a positive 64-bit integer) or an
/// administrator (role <see cref="BearerTokens.AdminRole"/>), who manages policies and may act for any user.
/// </summary>
public static class CallerIdentity
{
    /// <summary>The authorization policy of administrators' endpoints.</summary>
    public const string AdminPolicy = "coupon-admin";

    public static bool IsAdmin(this ClaimsPrincipal caller) => caller.IsInRole(BearerTokens.AdminRole);

    /// <summary>The caller's user id, when the token's subject is one.</summary>
    public static long? UserId(this ClaimsPrincipal caller) =>
        ApiValidation.TryParseId(caller.FindFirstValue(BearerTokens.SubjectClaim), out var id) ? id : null;

    /// <summary>A caller may see what belongs to <paramref name="userId"/> when it is that user, or an administrator.</summary>
    public static bool MayActFor(this ClaimsPrincipal caller, long userId) => caller.IsAdmin() || caller.UserId() == userId;
}
