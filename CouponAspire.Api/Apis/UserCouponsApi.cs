using CouponAspire.Issuance.Data;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace CouponAspire.Api.Apis;

/// <summary>The coupons a user holds.</summary>
public static class UserCouponsApi
{
    public static IEndpointRouteBuilder MapUserCouponsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/users/{userId}/coupons", GetUserCouponsAsync)
            .WithTags("Coupons")
            .WithName("GetUserCoupons")
            .WithSummary("The coupons a user holds, oldest first.");
        return app;
    }

    internal static async Task<Results<Ok<UserCoupon[]>, ValidationProblem>> GetUserCouponsAsync(
        string userId, CouponDbContext db, CancellationToken cancellationToken)
    {
        if (!ApiValidation.TryParseId(userId, out var id))
        {
            return ApiValidation.InvalidId(nameof(userId));
        }

        var coupons = await db.Coupons.AsNoTracking()
            .Where(c => c.UserId == id)
            .Join(db.Policies, c => c.PolicyId, p => p.Id, (c, p) => new UserCoupon(c.Id, c.PolicyId, p.Name, c.UserId, c.RequestId, c.IssuedAt))
            .OrderBy(c => c.CouponId)
            .ToArrayAsync(cancellationToken);
        return TypedResults.Ok(coupons);
    }
}
