using System.Security.Claims;
using CouponAspire.Api.Infrastructure;
using CouponAspire.Issuance.Contracts;
using CouponAspire.Issuance.Data;
using CouponAspire.Issuance.Engine;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace CouponAspire.Api.Apis;

/// <summary>Asking for a coupon, and reading what became of the request.</summary>
public static partial class CouponRequestsApi
{
    /// <summary>How long a 202 waits for the request's receipt to be committed before it is sent anyway.</summary>
    private static readonly TimeSpan ReceiptWait = TimeSpan.FromSeconds(2);

    public static IEndpointRouteBuilder MapCouponRequestsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/coupon-policies/{policyId}/requests", RequestCouponAsync)
            .RequireAuthorization()
            .RequireRateLimiting(CouponApiOptions.PerUserRateLimit)
            .WithTags("Coupon requests")
            .WithName("RequestCoupon")
            .WithSummary("Ask for a coupon. 202 means the request is durably in Kafka, not that a coupon was issued: read the Location.")
            .WithDescription("The user is the token's subject. userId in the body may be left out; an administrator may give any user's id.")
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        app.MapGet("/api/coupon-requests/{requestId}", GetRequestAsync)
            .RequireAuthorization()
            .WithTags("Coupon requests")
            .WithName("GetCouponRequest")
            .WithSummary("What became of a request: Pending, Issued, or Rejected with a reason. Only its user (or an administrator) sees it.")
            .ProducesProblem(StatusCodes.Status404NotFound);

        return app;
    }

    internal static async Task<Results<Accepted<CouponRequestAccepted>, ValidationProblem, ProblemHttpResult>> RequestCouponAsync(
        string policyId, IssueCouponRequest body, ClaimsPrincipal caller, [AsParameters] RequestCouponServices services, CancellationToken cancellationToken)
    {
        if (!ApiValidation.TryParseId(policyId, out var id))
        {
            services.Metrics.Rejected("Invalid");
            return ApiValidation.InvalidId(nameof(policyId));
        }

        if (body.UserId is <= 0 || (body.UserId ?? caller.UserId()) is not { } userId)
        {
            services.Metrics.Rejected("Invalid");
            return body.UserId is null
                ? ApiValidation.Problem("userId", "userId is required: the token's subject is not a user id.")
                : ApiValidation.InvalidId("userId");
        }

        if (!caller.MayActFor(userId))
        {
            services.Metrics.Rejected("Forbidden");
            return TypedResults.Problem(
                statusCode: StatusCodes.Status403Forbidden,
                title: "Not your request",
                detail: "A user may only ask for a coupon for themselves.");
        }

        var policy = await services.Policies.FindAsync(id, cancellationToken);
        var requestedAt = services.Time.GetUtcNow();
        if (Refusal(id, policy, requestedAt) is { } refusal)
        {
            services.Metrics.Rejected(refusal.Reason);
            return refusal.Result;
        }

        var request = new CouponRequested(Guid.CreateVersion7(requestedAt), id, userId, requestedAt);

        // The receipt is written while the request is published, so that the 202 need not wait for it as well.
        var receipt = services.Ledger.RecordReceiptAsync(request);
        var published = await services.Publisher.PublishAsync(request);
        if (!published.Accepted)
        {
            return await RefusedByBrokerAsync(request, published, services);
        }

        await EnsureReceiptAsync(request.RequestId, receipt, services.Logger);
        services.Metrics.Accepted();
        return TypedResults.Accepted($"/api/coupon-requests/{request.RequestId}", new CouponRequestAccepted(request.RequestId, RequestStatuses.Pending));
    }

    internal static async Task<Results<Ok<CouponRequestStatus>, ValidationProblem, ProblemHttpResult>> GetRequestAsync(
        string requestId, ClaimsPrincipal caller, CouponDbContext db, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(requestId, out var id))
        {
            return ApiValidation.Problem(nameof(requestId), "requestId must be a request id (a UUID).");
        }

        var decided = await db.RequestOutcomes.AsNoTracking().SingleOrDefaultAsync(o => o.RequestId == id, cancellationToken);
        if (decided is not null)
        {
            // Someone else's request reads as not found: its existence is not the caller's business.
            return decided.Outcome == IssuanceOutcome.Withdrawn || !caller.MayActFor(decided.UserId)
                ? RequestNotFound(id)
                : TypedResults.Ok(new CouponRequestStatus(
                    id,
                    decided.PolicyId,
                    decided.UserId,
                    RequestStatuses.Of(decided.Outcome),
                    decided.Outcome == IssuanceOutcome.Issued ? null : decided.Outcome.ToString(),
                    decided.CouponId,
                    decided.RequestedAt,
                    decided.DecidedAt));
        }

        var accepted = await db.RequestReceipts.AsNoTracking().SingleOrDefaultAsync(r => r.RequestId == id, cancellationToken);
        return accepted is null || !caller.MayActFor(accepted.UserId)
            ? RequestNotFound(id)
            : TypedResults.Ok(new CouponRequestStatus(id, accepted.PolicyId, accepted.UserId, RequestStatuses.Pending, null, null, accepted.RequestedAt, null));
    }

    /// <summary>The cheap checks, answered from the <see cref="PolicyGate"/> without publishing anything.</summary>
    private static (string Reason, ProblemHttpResult Result)? Refusal(long policyId, PolicySnapshot? policy, DateTimeOffset requestedAt) => policy switch
    {
        null => (nameof(IssuanceOutcome.PolicyNotFound), CouponPoliciesApi.PolicyNotFound(policyId)),
        _ when !policy.IsOpenAt(requestedAt) => (nameof(IssuanceOutcome.PolicyNotOpen), Conflict(
            nameof(IssuanceOutcome.PolicyNotOpen), "Coupon policy not open", $"Coupon policy {policyId} does not take requests at {requestedAt:O}.")),
        { SoldOut: true } => (nameof(IssuanceOutcome.SoldOut), Conflict(
            nameof(IssuanceOutcome.SoldOut), "Sold out", $"Every coupon of policy {policyId} has been issued.")),
        _ => null,
    };

    /// <summary>
    /// The broker did not confirm the publish. The request is withdrawn — its receipt voided, and if the broker wrote
    /// it after all, it is never decided — unless a consumer decided it first, in which case it was accepted after all.
    /// </summary>
    private static async Task<Results<Accepted<CouponRequestAccepted>, ValidationProblem, ProblemHttpResult>> RefusedByBrokerAsync(
        CouponRequested request, PublishResult published, RequestCouponServices services)
    {
        LogPublishFailed(services.Logger, request.RequestId, published.Error?.Reason, published.PossiblyPersisted);
        try
        {
            if (await services.Ledger.WithdrawAsync(request, CancellationToken.None) is { } outcome)
            {
                services.Metrics.Accepted();
                return TypedResults.Accepted(
                    $"/api/coupon-requests/{request.RequestId}",
                    new CouponRequestAccepted(request.RequestId, RequestStatuses.Of(outcome)));
            }
        }
        catch (Exception e) when ((e is NpgsqlException or TimeoutException) && published.PossiblyPersisted)
        {
            // Neither the broker nor the database answered: say so, and how to find out.
            LogWithdrawFailed(services.Logger, e, request.RequestId);
            services.Metrics.Rejected("BrokerUnavailable");
            return TypedResults.Problem(
                statusCode: StatusCodes.Status503ServiceUnavailable,
                title: "Broker unavailable; outcome unknown",
                detail: "Kafka did not confirm the request in time and it could not be withdrawn. It may still be decided: " +
                        $"GET /api/coupon-requests/{request.RequestId} tells once it is; as long as it answers 404 or Pending, it was not.",
                extensions: new Dictionary<string, object?> { ["requestId"] = request.RequestId });
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            // Not published for sure; only its receipt may linger, for an id no client was given.
            LogWithdrawFailed(services.Logger, e, request.RequestId);
        }

        services.Metrics.Rejected("BrokerUnavailable");
        return TypedResults.Problem(
            statusCode: StatusCodes.Status503ServiceUnavailable,
            title: "Broker unavailable",
            detail: "Kafka did not take the request in time. Nothing was published; try again.");
    }

    /// <summary>A 202 promises that the request reads as Pending: the receipt, written meanwhile, is usually committed by now.</summary>
    private static async Task EnsureReceiptAsync(Guid requestId, Task receipt, ILogger logger)
    {
        if (receipt.IsCompletedSuccessfully)
        {
            return;
        }

        try
        {
            await receipt.WaitAsync(ReceiptWait);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            // The request is in Kafka and will be decided; until then it reads as not found.
            LogReceiptNotWritten(logger, e, requestId);
        }
    }

    private static ProblemHttpResult Conflict(string reason, string title, string detail) => TypedResults.Problem(
        statusCode: StatusCodes.Status409Conflict,
        title: title,
        detail: detail,
        extensions: new Dictionary<string, object?> { ["reason"] = reason });

    private static ProblemHttpResult RequestNotFound(Guid requestId) => TypedResults.Problem(
        statusCode: StatusCodes.Status404NotFound,
        title: "Coupon request not found",
        detail: $"No request {requestId} was accepted.");

    [LoggerMessage(LogLevel.Warning, "Kafka did not confirm request {RequestId}: {Reason} (possibly written: {PossiblyPersisted})")]
    private static partial void LogPublishFailed(ILogger logger, Guid requestId, string? reason, bool possiblyPersisted);

    [LoggerMessage(LogLevel.Error, "Request {RequestId} could not be withdrawn after a failed publish; it may still be decided")]
    private static partial void LogWithdrawFailed(ILogger logger, Exception exception, Guid requestId);

    [LoggerMessage(LogLevel.Warning, "The receipt of accepted request {RequestId} was not written in time")]
    private static partial void LogReceiptNotWritten(ILogger logger, Exception exception, Guid requestId);
}

/// <summary>What <see cref="CouponRequestsApi.RequestCouponAsync"/> needs.</summary>
internal sealed record RequestCouponServices(
    PolicyGate Policies,
    CouponRequestPublisher Publisher,
    RequestLedger Ledger,
    ApiMetrics Metrics,
    TimeProvider Time,
    ILogger<CouponRequestPublisher> Logger);
