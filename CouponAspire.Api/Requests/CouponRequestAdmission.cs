using CouponAspire.Api.Policies;
using CouponAspire.Contracts.Events;
using Npgsql;

namespace CouponAspire.Api.Requests;

/// <summary>
/// Takes an issue request that is valid and allowed: checks it against the sold-out gate, gives it a signed id, publishes
/// it to Kafka, and when the broker does not confirm the publish, withdraws the request so that it is never decided —
/// unless a consumer decided it already. Accepting needs Kafka alone: the id itself lets the request read as Pending
/// until decided. It never decides anything.
/// </summary>
internal sealed partial class CouponRequestAdmission(
    PolicyGate policies,
    RequestIds requestIds,
    CouponRequestPublisher publisher,
    RequestWithdrawals withdrawals,
    ApiMetrics metrics,
    TimeProvider time,
    ILogger<CouponRequestAdmission> logger)
{
    public async Task<AdmissionResult> AdmitAsync(long policyId, long userId, CancellationToken cancellationToken)
    {
        var policy = await policies.FindAsync(policyId, cancellationToken);
        var requestedAt = EventTime.Truncate(time.GetUtcNow());
        if (Refusal(policy, requestedAt) is { } reason)
        {
            metrics.Rejected(reason.ToString());
            return new AdmissionResult.Refused(reason, requestedAt);
        }

        var request = new CouponRequested(requestIds.Create(policyId, userId, requestedAt), policyId, userId, requestedAt);
        var published = await publisher.PublishAsync(request);
        if (!published.Accepted)
        {
            return await WithdrawAsync(request, published);
        }

        metrics.Accepted();
        return new AdmissionResult.Accepted(new SignedRequest(request.RequestId, policyId, userId, requestedAt));
    }

    /// <summary>The cheap checks, answered from the gate's memory: a refusal here publishes nothing.</summary>
    private static IssuanceOutcome? Refusal(PolicySnapshot? policy, DateTimeOffset requestedAt) => policy switch
    {
        null => IssuanceOutcome.PolicyNotFound,
        _ when !policy.IsOpenAt(requestedAt) => IssuanceOutcome.PolicyNotOpen,
        { SoldOut: true } => IssuanceOutcome.SoldOut,
        _ => null,
    };

    /// <summary>
    /// The broker did not confirm the publish. The request is withdrawn — if the broker wrote it after all, it is never
    /// decided — unless a consumer decided it first, in which case it was accepted after all.
    /// </summary>
    private async Task<AdmissionResult> WithdrawAsync(CouponRequested request, PublishResult published)
    {
        LogPublishFailed(request.RequestId, published.Error?.Reason, published.PossiblyPersisted);
        try
        {
            if (await withdrawals.WithdrawAsync(request, CancellationToken.None) is { } outcome)
            {
                metrics.Accepted();
                return new AdmissionResult.AlreadyDecided(request.RequestId, outcome);
            }
        }
        catch (Exception e) when ((e is NpgsqlException or TimeoutException) && published.PossiblyPersisted)
        {
            LogWithdrawFailed(e, request.RequestId);
            metrics.Rejected("BrokerUnavailable");
            return new AdmissionResult.OutcomeUnknown(request.RequestId);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            // Not published for sure: nothing to void, and no client was given the id.
            LogWithdrawFailed(e, request.RequestId);
        }

        metrics.Rejected("BrokerUnavailable");
        return new AdmissionResult.NotPublished();
    }

    [LoggerMessage(LogLevel.Warning, "Kafka did not confirm request {RequestId}: {Reason} (possibly written: {PossiblyPersisted})")]
    private partial void LogPublishFailed(string requestId, string? reason, bool possiblyPersisted);

    [LoggerMessage(LogLevel.Error, "Request {RequestId} could not be withdrawn after a failed publish; it may still be decided")]
    private partial void LogWithdrawFailed(Exception exception, string requestId);
}
