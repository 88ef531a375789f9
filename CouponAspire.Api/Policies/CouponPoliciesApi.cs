using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using CouponAspire.Api.Decisions;
using Microsoft.Extensions.Options;

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
        policies.MapGet("/{policyId}/events", StreamPolicyAsync)
            .WithName("StreamCouponPolicy")
            .AllowAnonymous()
            .WithSummary("Server-sent events of a sale: 'remaining' as the quantity left falls (the latest, at most ten a second), then 'soldOut', and the stream ends.")
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

    internal static async Task<Results<ServerSentEventsResult<PolicyRemaining>, ValidationProblem, ProblemHttpResult>> StreamPolicyAsync(
        string policyId, HttpContext http, PolicyGate gate, PolicyCounters counters, TimeProvider time, IOptions<CouponApiOptions> options, CancellationToken cancellationToken)
    {
        if (!ApiValidation.TryParseId(policyId, out var id))
        {
            return ApiValidation.InvalidId(nameof(policyId));
        }

        // Watching first, then reading the policy: a decision read in between lowers the counter all the same.
        var watch = counters.Watch(id);
        PolicySnapshot? policy;
        try
        {
            policy = await gate.FindAsync(id, cancellationToken);
        }
        catch
        {
            watch.Dispose();
            throw;
        }

        if (policy is null)
        {
            watch.Dispose();
            return PolicyNotFound(id);
        }

        watch.Value.Lower(policy.RemainingQuantity);
        return TypedResults.ServerSentEvents(PolicyEvents(http.Response, policy, watch, time, options.Value.KeepAliveInterval, cancellationToken));
    }

    /// <summary>The quantity left whenever it falls, at most one event per <see cref="EventInterval"/> (the latest), then 'soldOut'.</summary>
    private static async IAsyncEnumerable<SseItem<PolicyRemaining>> PolicyEvents(
        HttpResponse response,
        PolicySnapshot policy,
        SharedByKey<long, PolicyCounter>.Lease watch,
        TimeProvider time,
        TimeSpan keepAlive,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using (watch)
        {
            var counter = watch.Value;
            int? sent = null;
            while (true)
            {
                var changed = counter.Changed;
                var remaining = counter.Remaining;
                if (remaining == 0)
                {
                    yield return new SseItem<PolicyRemaining>(new PolicyRemaining(policy.Id, policy.TotalQuantity, 0, SoldOut: true), "soldOut");
                    yield break;
                }

                if (remaining != sent)
                {
                    yield return new SseItem<PolicyRemaining>(new PolicyRemaining(policy.Id, policy.TotalQuantity, remaining, SoldOut: false), "remaining");
                    sent = remaining;
                    await Task.Delay(EventInterval, time, cancellationToken);
                    continue;
                }

                if (await Task.WhenAny(changed, Task.Delay(keepAlive, time, cancellationToken)) != changed)
                {
                    await ServerSentEvents.KeepAliveAsync(response, cancellationToken);
                }
            }
        }
    }

    /// <summary>A sale page needs no more than ten figures a second.</summary>
    private static readonly TimeSpan EventInterval = TimeSpan.FromMilliseconds(100);

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
