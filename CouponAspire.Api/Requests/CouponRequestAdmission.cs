using CouponAspire.Api.Policies;
using CouponAspire.Contracts.Events;
using Npgsql;

namespace CouponAspire.Api.Requests;

/// <summary>
/// Takes an issue request that is valid and allowed: checks it against the sold-out gate, publishes it to Kafka (the
/// receipt written meanwhile, so that a 202 reads as Pending), and when the broker does not confirm the publish,
/// withdraws the request so that it is never decided — unless a consumer decided it already. It never decides anything.
/// </summary>
internal sealed partial class CouponRequestAdmission(
    PolicyGate policies,
    CouponRequestPublisher publisher,
    RequestLedger ledger,
    ApiMetrics metrics,
    TimeProvider time,
    ILogger<CouponRequestAdmission> logger)
{
    /// <summary>How long an acceptance waits for the request's receipt to be committed before it is answered anyway.</summary>
    private static readonly TimeSpan ReceiptWait = TimeSpan.FromSeconds(2);

    public async Task<AdmissionResult> AdmitAsync(long policyId, long userId, CancellationToken cancellationToken)
    {
        var policy = await policies.FindAsync(policyId, cancellationToken);
        var requestedAt = time.GetUtcNow();
        if (Refusal(policy, requestedAt) is { } reason)
        {
            metrics.Rejected(reason.ToString());
            return new AdmissionResult.Refused(reason, requestedAt);
        }

        var request = new CouponRequested(Guid.CreateVersion7(requestedAt), policyId, userId, requestedAt);

        // The receipt is written while the request is published, so that the 202 need not wait for it as well.
        var receipt = ledger.RecordReceiptAsync(request);
        var published = await publisher.PublishAsync(request);
        if (!published.Accepted)
        {
            return await WithdrawAsync(request, published);
        }

        await EnsureReceiptAsync(request.RequestId, receipt);
        metrics.Accepted();
        return new AdmissionResult.Accepted(request.RequestId);
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
    /// The broker did not confirm the publish. The request is withdrawn — its receipt voided, and if the broker wrote it
    /// after all, it is never decided — unless a consumer decided it first, in which case it was accepted after all.
    /// </summary>
    private async Task<AdmissionResult> WithdrawAsync(CouponRequested request, PublishResult published)
    {
        LogPublishFailed(request.RequestId, published.Error?.Reason, published.PossiblyPersisted);
        try
        {
            if (await ledger.WithdrawAsync(request, CancellationToken.None) is { } outcome)
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
            // Not published for sure; only its receipt may linger, for an id no client was given.
            LogWithdrawFailed(e, request.RequestId);
        }

        metrics.Rejected("BrokerUnavailable");
        return new AdmissionResult.NotPublished();
    }

    /// <summary>A 202 promises that the request reads as Pending: the receipt, written meanwhile, is usually committed by now.</summary>
    private async Task EnsureReceiptAsync(Guid requestId, Task receipt)
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
            LogReceiptNotWritten(e, requestId);
        }
    }

    [LoggerMessage(LogLevel.Warning, "Kafka did not confirm request {RequestId}: {Reason} (possibly written: {PossiblyPersisted})")]
    private partial void LogPublishFailed(Guid requestId, string? reason, bool possiblyPersisted);

    [LoggerMessage(LogLevel.Error, "Request {RequestId} could not be withdrawn after a failed publish; it may still be decided")]
    private partial void LogWithdrawFailed(Exception exception, Guid requestId);

    [LoggerMessage(LogLevel.Warning, "The receipt of accepted request {RequestId} was not written in time")]
    private partial void LogReceiptNotWritten(Exception exception, Guid requestId);
}
