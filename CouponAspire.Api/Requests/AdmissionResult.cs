
namespace CouponAspire.Api.Requests;

/// <summary>What <see cref="CouponRequestAdmission"/> made of an issue request: one of a closed set.</summary>
public abstract record AdmissionResult
{
    private AdmissionResult()
    {
    }

    /// <summary>Durably in Kafka, to be decided: the client reads <see cref="Request"/>'s id for the outcome.</summary>
    public sealed record Accepted(SignedRequest Request) : AdmissionResult;

    /// <summary>Refused by the cheap checks, with nothing published: the policy does not exist, is not open, or is sold out.</summary>
    public sealed record Refused(IssuanceOutcome Reason, DateTimeOffset RequestedAt) : AdmissionResult;

    /// <summary>The broker did not confirm the publish, but it had stored it: a consumer decided it before it could be withdrawn.</summary>
    public sealed record AlreadyDecided(string RequestId, IssuanceOutcome Outcome) : AdmissionResult;

    /// <summary>The broker did not take the request in time and it will never be decided: try again.</summary>
    public sealed record NotPublished : AdmissionResult;

    /// <summary>Neither the broker nor the database confirmed anything: the request may still be decided, under <see cref="RequestId"/>.</summary>
    public sealed record OutcomeUnknown(string RequestId) : AdmissionResult;
}
