using System.Security.Claims;
using CouponAspire.Api.Policies;

namespace CouponAspire.Api.Requests;

/// <summary>Asking for a coupon of a policy, and reading what became of the request.</summary>
public static class CouponRequestsApi
{
    public static RouteGroupBuilder MapCouponRequestsApi(this IEndpointRouteBuilder app)
    {
        var requests = app.MapGroup("/api").WithTags("Coupon requests").RequireAuthorization();

        requests.MapPost("/coupon-policies/{policyId}/requests", RequestCouponAsync)
            .WithMetadata(new PerUserRateLimitAttribute())
            .WithName("RequestCoupon")
            .WithSummary("Ask for a coupon. 202 means the request is durably in Kafka, not that a coupon was issued: read the Location.")
            .WithDescription("The user is the token's subject. userId in the body may be left out; an administrator may give any user's id.")
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        requests.MapGet("/coupon-requests/{requestId}", GetRequestAsync)
            .WithName("GetCouponRequest")
            .WithSummary("What became of a request: Pending, Issued, or Rejected with a reason. Only its user (or an administrator) sees it.")
            .WithDescription("The id is the opaque string of the 202's Location. Pending until decided; 404 for an id that was never accepted, was altered, or is another user's.")
            .ProducesProblem(StatusCodes.Status404NotFound);

        return requests;
    }

    internal static async Task<Results<SizedAccepted<CouponRequestAccepted>, ValidationProblem, ProblemHttpResult>> RequestCouponAsync(
        string policyId, IssueCouponRequest body, ClaimsPrincipal caller, CouponRequestAdmission admission, ApiMetrics metrics, CancellationToken cancellationToken)
    {
        if (!ApiValidation.TryParseId(policyId, out var id))
        {
            metrics.Rejected("Invalid");
            return ApiValidation.InvalidId(nameof(policyId));
        }

        if (body.UserId is <= 0 || (body.UserId ?? caller.UserId()) is not { } userId)
        {
            metrics.Rejected("Invalid");
            return body.UserId is null
                ? ApiValidation.Problem("userId", "userId is required: the token's subject is not a user id.")
                : ApiValidation.InvalidId("userId");
        }

        if (!caller.MayActFor(userId))
        {
            metrics.Rejected("Forbidden");
            return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Not your request", detail: "A user may only ask for a coupon for themselves.");
        }

        return await admission.AdmitAsync(id, userId, cancellationToken) switch
        {
            AdmissionResult.Accepted accepted => Accepted(accepted.RequestId, RequestStatuses.Pending),
            AdmissionResult.AlreadyDecided decided => Accepted(decided.RequestId, RequestStatuses.Of(decided.Outcome)),
            AdmissionResult.Refused { Reason: IssuanceOutcome.PolicyNotFound } => CouponPoliciesApi.PolicyNotFound(id),
            AdmissionResult.Refused { Reason: IssuanceOutcome.PolicyNotOpen } refused => Conflict(
                refused.Reason, "Coupon policy not open", $"Coupon policy {id} does not take requests at {refused.RequestedAt:O}."),
            AdmissionResult.Refused refused => Conflict(refused.Reason, "Sold out", $"Every coupon of policy {id} has been issued."),
            AdmissionResult.OutcomeUnknown unknown => TypedResults.Problem(
                statusCode: StatusCodes.Status503ServiceUnavailable,
                title: "Broker unavailable; outcome unknown",
                detail: "Kafka did not confirm the request in time and it could not be withdrawn. It may still be decided: " +
                        $"GET /api/coupon-requests/{unknown.RequestId} tells once it is; as long as it answers 404 or Pending, it was not.",
                extensions: new Dictionary<string, object?> { ["requestId"] = unknown.RequestId }),
            _ => TypedResults.Problem(
                statusCode: StatusCodes.Status503ServiceUnavailable,
                title: "Broker unavailable",
                detail: "Kafka did not take the request in time. Nothing was published; try again."),
        };
    }

    internal static async Task<Results<Ok<CouponRequestStatus>, ProblemHttpResult>> GetRequestAsync(
        string requestId, ClaimsPrincipal caller, RequestIds requestIds, CouponDbContext db, CancellationToken cancellationToken)
    {
        // An id this API did not make (never accepted, altered, made up) and someone else's request read alike: not found.
        if (!requestIds.TryRead(requestId, out var request) || !caller.MayActFor(request.UserId))
        {
            return RequestNotFound();
        }

        var decided = await db.RequestOutcomes.AsNoTracking().SingleOrDefaultAsync(o => o.RequestId == request.RequestId, cancellationToken);
        return decided switch
        {
            // Its publish failed and it was voided: it was never accepted.
            { Outcome: IssuanceOutcome.Withdrawn } => RequestNotFound(),
            null => TypedResults.Ok(CouponRequestStatus.Pending(request)),
            _ => TypedResults.Ok(CouponRequestStatus.Decided(decided)),
        };
    }

    private static SizedAccepted<CouponRequestAccepted> Accepted(string requestId, string status) =>
        new($"/api/coupon-requests/{requestId}", new CouponRequestAccepted(requestId, status));

    private static ProblemHttpResult Conflict(IssuanceOutcome reason, string title, string detail) => TypedResults.Problem(
        statusCode: StatusCodes.Status409Conflict,
        title: title,
        detail: detail,
        extensions: new Dictionary<string, object?> { ["reason"] = reason.ToString() });

    private static ProblemHttpResult RequestNotFound() => TypedResults.Problem(
        statusCode: StatusCodes.Status404NotFound,
        title: "Coupon request not found",
        detail: "No request with this id was accepted for you.");
}
