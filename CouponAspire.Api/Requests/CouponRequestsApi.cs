using System.Diagnostics;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Security.Claims;
using CouponAspire.Api.Decisions;
using CouponAspire.Api.Policies;
using Microsoft.Extensions.Options;

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
            .WithDescription(
                "The user is the token's subject. userId in the body may be left out; an administrator may give any user's id. " +
                $"Prefer: wait=N (or ?wait=N), N from 0 to {WaitPreference.MaxSeconds}: once accepted, waits up to N seconds for the decision and answers " +
                "201 with the request's final state (the GET's body) when it comes in time, else 202 as without it; with Preference-Applied.")
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        requests.MapGet("/coupon-requests/{requestId}", GetRequestAsync)
            .WithName("GetCouponRequest")
            .WithSummary("What became of a request: Pending, Issued, or Rejected with a reason. Only its user (or an administrator) sees it.")
            .WithDescription(
                "The id is the opaque string of the 202's Location. Pending until decided; 404 for an id that was never accepted, was altered, or is another user's. " +
                $"Prefer: wait=N (or ?wait=N), N from 0 to {WaitPreference.MaxSeconds}: answers the moment the request is decided, or Pending after N seconds, with Preference-Applied.")
            .ProducesProblem(StatusCodes.Status404NotFound);

        requests.MapGet("/coupon-requests/{requestId}/events", StreamRequestAsync)
            .WithName("StreamCouponRequest")
            .WithSummary("Server-sent events of a request: 'pending' at once (unless decided already), then 'decided' with the GET's body, then the stream ends.")
            .ProducesProblem(StatusCodes.Status404NotFound);

        return requests;
    }

    internal static async Task<Results<SizedAccepted<CouponRequestAccepted>, SizedCreated<CouponRequestStatus>, ValidationProblem, ProblemHttpResult>> RequestCouponAsync(
        string policyId,
        IssueCouponRequest body,
        string? wait,
        HttpContext http,
        ClaimsPrincipal caller,
        CouponRequestAdmission admission,
        RequestOutcomes outcomes,
        ApiMetrics metrics,
        CancellationToken cancellationToken)
    {
        if (!WaitPreference.TryRead(http.Request, wait, out var waitSeconds, out var badWait))
        {
            metrics.Rejected("Invalid");
            return badWait;
        }

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
            AdmissionResult.Accepted { Request: var request } when waitSeconds is { } seconds => await DecidedOrAcceptedAsync(request, seconds, http, outcomes, cancellationToken),
            AdmissionResult.Accepted accepted => Accepted(accepted.Request.RequestId, RequestStatuses.Pending),
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

    /// <summary>
    /// An accepted request whose client waits: its final state (201) the moment it is decided, or 202 as without waiting
    /// once <paramref name="seconds"/> have passed. Registered before it looks, as a GET's wait is.
    /// </summary>
    private static async Task<Results<SizedAccepted<CouponRequestAccepted>, SizedCreated<CouponRequestStatus>, ValidationProblem, ProblemHttpResult>> DecidedOrAcceptedAsync(
        SignedRequest request, int seconds, HttpContext http, RequestOutcomes outcomes, CancellationToken cancellationToken)
    {
        var decision = await WaitForAsync(outcomes, request, seconds, http, cancellationToken);
        return decision is null or { Outcome: IssuanceOutcome.Withdrawn }
            ? Accepted(request.RequestId, RequestStatuses.Pending)
            : new SizedCreated<CouponRequestStatus>(LocationOf(request.RequestId), CouponRequestStatus.Decided(decision));
    }

    /// <summary>The decision as soon as it is known, or null after <paramref name="seconds"/>; says the wait was applied.</summary>
    private static async Task<KnownDecision?> WaitForAsync(RequestOutcomes outcomes, SignedRequest request, int seconds, HttpContext http, CancellationToken cancellationToken)
    {
        using var watch = outcomes.WatchFor(request);
        var decision = await watch.ReadAsync(cancellationToken) ?? await watch.WaitAsync(TimeSpan.FromSeconds(seconds), cancellationToken);
        http.Response.Headers["Preference-Applied"] = $"{WaitPreference.Name}={seconds}";
        LinkToDecision(decision);
        return decision;
    }

    internal static async Task<Results<Ok<CouponRequestStatus>, ValidationProblem, ProblemHttpResult>> GetRequestAsync(
        string requestId, string? wait, HttpContext http, ClaimsPrincipal caller, RequestIds requestIds, RequestOutcomes outcomes, CancellationToken cancellationToken)
    {
        if (!WaitPreference.TryRead(http.Request, wait, out var waitSeconds, out var badWait))
        {
            return badWait;
        }

        // An id this API did not make (never accepted, altered, made up) and someone else's request read alike: not found.
        if (!requestIds.TryRead(requestId, out var request) || !caller.MayActFor(request.UserId))
        {
            return RequestNotFound();
        }

        var decision = waitSeconds is { } seconds
            ? await WaitForAsync(outcomes, request, seconds, http, cancellationToken)
            : await outcomes.ReadAsync(request, cancellationToken);

        return decision switch
        {
            // Its publish failed and it was voided: it was never accepted.
            { Outcome: IssuanceOutcome.Withdrawn } => RequestNotFound(),
            null => TypedResults.Ok(CouponRequestStatus.Pending(request)),
            _ => TypedResults.Ok(CouponRequestStatus.Decided(decision)),
        };
    }

    internal static async Task<Results<ServerSentEventsResult<CouponRequestStatus>, ProblemHttpResult>> StreamRequestAsync(
        string requestId, HttpContext http, ClaimsPrincipal caller, RequestIds requestIds, RequestOutcomes outcomes, IOptions<CouponApiOptions> options, CancellationToken cancellationToken)
    {
        if (!requestIds.TryRead(requestId, out var request) || !caller.MayActFor(request.UserId))
        {
            return RequestNotFound();
        }

        var watch = outcomes.WatchFor(request);
        KnownDecision? decision;
        try
        {
            decision = await watch.ReadAsync(cancellationToken);
        }
        catch
        {
            watch.Dispose();
            throw;
        }

        if (decision is { Outcome: IssuanceOutcome.Withdrawn })
        {
            watch.Dispose();
            return RequestNotFound();
        }

        return TypedResults.ServerSentEvents(RequestEvents(http.Response, request, watch, decision, options.Value.KeepAliveInterval, cancellationToken));
    }

    /// <summary>'pending' while undecided, a comment whenever nothing happens for a while, then 'decided', and the end.</summary>
    private static async IAsyncEnumerable<SseItem<CouponRequestStatus>> RequestEvents(
        HttpResponse response, SignedRequest request, RequestOutcomes.Watch watch, KnownDecision? decision, TimeSpan keepAlive, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using (watch)
        {
            if (decision is null)
            {
                yield return new SseItem<CouponRequestStatus>(CouponRequestStatus.Pending(request), "pending");
                while ((decision = await watch.WaitAsync(keepAlive, cancellationToken)) is null)
                {
                    await ServerSentEvents.KeepAliveAsync(response, cancellationToken);
                }

                LinkToDecision(decision);
            }

            yield return new SseItem<CouponRequestStatus>(CouponRequestStatus.Decided(decision), "decided");
        }
    }

    /// <summary>The waiting request's span links to the decision's trace: where the answer came from.</summary>
    private static void LinkToDecision(KnownDecision? decision)
    {
        if (decision is { Published: var published } && published != default && Activity.Current is { Recorded: true } waiting)
        {
            waiting.AddLink(new ActivityLink(published));
        }
    }

    private static SizedAccepted<CouponRequestAccepted> Accepted(string requestId, string status) =>
        new(LocationOf(requestId), new CouponRequestAccepted(requestId, status));

    private static string LocationOf(string requestId) => $"/api/coupon-requests/{requestId}";

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
