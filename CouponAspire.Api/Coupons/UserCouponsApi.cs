using System.Security.Claims;

namespace CouponAspire.Api.Coupons;

/// <summary>The coupons a user holds.</summary>
public static class UserCouponsApi
{
    public static IEndpointRouteBuilder MapUserCouponsApi(this IEndpointRouteBuilder app)
    {
        var coupons = app.MapGroup("/api/users/{userId}/coupons").WithTags("Coupons").RequireAuthorization();
        coupons.MapGet("/", GetUserCouponsAsync)
            .WithName("GetUserCoupons")
            .WithSummary("The coupons a user holds, oldest first. Only that user (or an administrator) may read them.")
            .ProducesProblem(StatusCodes.Status403Forbidden);
        return app;
    }

    internal static async Task<Results<Ok<UserCoupon[]>, ValidationProblem, ProblemHttpResult>> GetUserCouponsAsync(
        string userId, ClaimsPrincipal caller, CouponDbContext db, CancellationToken cancellationToken)
    {
        if (!ApiValidation.TryParseId(userId, out var id))
        {
            return ApiValidation.InvalidId(nameof(userId));
        }

        if (!caller.MayActFor(id))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Not your coupons", detail: "A user may only read their own coupons.");
        }

        var coupons = await db.Coupons.AsNoTracking()
            .Where(c => c.UserId == id)
            .OrderBy(c => c.Id)
            .Join(db.Policies, c => c.PolicyId, p => p.Id, (c, p) => new UserCoupon(c.Id, c.PolicyId, p.Name, c.UserId, c.RequestId, c.IssuedAt))
            .ToArrayAsync(cancellationToken);
        return TypedResults.Ok(coupons);
    }
}
