
namespace CouponAspire.Api.Policies;

/// <summary>Coupon policies: the flash sales themselves.</summary>
public static class CouponPoliciesApi
{
    public static RouteGroupBuilder MapCouponPoliciesApi(this IEndpointRouteBuilder app)
    {
        var policies = app.MapGroup("/api/coupon-policies").WithTags("Coupon policies");

        policies.MapPost("/", CreatePolicyAsync)
            .RequireAuthorization(CallerIdentity.AdminPolicy)
            .WithName("CreateCouponPolicy")
            .WithSummary("Create a coupon policy: a quantity of coupons, optionally only within a window. Administrators only.")
            .ProducesProblem(StatusCodes.Status403Forbidden);
        policies.MapGet("/{policyId}", GetPolicyAsync)
            .WithName("GetCouponPolicy")
            .AllowAnonymous()
            .WithSummary("A policy with how many coupons are issued and left. Public: a sale page shows it.")
            .ProducesProblem(StatusCodes.Status404NotFound);

        return policies;
    }

    internal static async Task<Results<Created<PolicyResponse>, ValidationProblem>> CreatePolicyAsync(
        CreatePolicyRequest body, CouponDbContext db, PolicyGate gate, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = Validate(body);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var policy = new CouponPolicy
        {
            Name = body.Name!.Trim(),
            TotalQuantity = body.TotalQuantity!.Value,
            StartsAt = body.StartsAt?.ToUniversalTime(),
            EndsAt = body.EndsAt?.ToUniversalTime(),
            CreatedAt = time.GetUtcNow(),
        };
        db.Policies.Add(policy);
        await db.SaveChangesAsync(cancellationToken);

        gate.Remember(policy.Snapshot());
        return TypedResults.Created($"/api/coupon-policies/{policy.Id}", PolicyResponse.Of(policy));
    }

    internal static async Task<Results<Ok<PolicyResponse>, ValidationProblem, ProblemHttpResult>> GetPolicyAsync(
        string policyId, CouponDbContext db, CancellationToken cancellationToken)
    {
        if (!ApiValidation.TryParseId(policyId, out var id))
        {
            return ApiValidation.InvalidId(nameof(policyId));
        }

        var policy = await db.Policies.AsNoTracking().SingleOrDefaultAsync(p => p.Id == id, cancellationToken);
        return policy is null ? PolicyNotFound(id) : TypedResults.Ok(PolicyResponse.Of(policy));
    }

    internal static ProblemHttpResult PolicyNotFound(long policyId) => TypedResults.Problem(
        statusCode: StatusCodes.Status404NotFound,
        title: "Coupon policy not found",
        detail: $"There is no coupon policy {policyId}.");

    private static Dictionary<string, string[]> Validate(CreatePolicyRequest body)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(body.Name))
        {
            errors["name"] = ["name is required."];
        }
        else if (body.Name.Trim().Length > CouponPolicy.NameMaxLength)
        {
            errors["name"] = [$"name must be at most {CouponPolicy.NameMaxLength} characters."];
        }

        if (body.TotalQuantity is not > 0)
        {
            errors["totalQuantity"] = ["totalQuantity must be a positive 32-bit integer."];
        }

        if (body.StartsAt is { } startsAt && body.EndsAt is { } endsAt && endsAt <= startsAt)
        {
            errors["endsAt"] = ["endsAt must be after startsAt."];
        }

        return errors;
    }
}
