using System.Security.Claims;
using CouponAspire.Api.Apis;

namespace CouponAspire.Api.Infrastructure;

/// <summary>
/// Who is calling, from the bearer token: a user (subject = the user id, a positive 64-bit integer) or an
/// administrator (role <see cref="AdminRole"/>), who manages policies and may act for any user.
/// </summary>
public static class CallerIdentity
{
    public const string AdminRole = "coupon-admin";
    public const string AdminPolicy = "coupon-admin";
    public const string SubjectClaim = "sub";
    public const string RoleClaim = "role";

    public static bool IsAdmin(this ClaimsPrincipal caller) => caller.IsInRole(AdminRole);

    /// <summary>The caller's user id, when the token's subject is one.</summary>
    public static long? UserId(this ClaimsPrincipal caller) =>
        ApiValidation.TryParseId(caller.FindFirstValue(SubjectClaim), out var id) ? id : null;

    /// <summary>A caller may see what belongs to <paramref name="userId"/> when it is that user, or an administrator.</summary>
    public static bool MayActFor(this ClaimsPrincipal caller, long userId) => caller.IsAdmin() || caller.UserId() == userId;
}
