namespace CouponAspire.Contracts.Events;

/// <summary>A request's <c>status</c>, on the API and on <c>coupon-decisions</c>; a rejection's reason is its <see cref="IssuanceOutcome"/>.</summary>
public static class RequestStatuses
{
    public const string Pending = "Pending";
    public const string Issued = "Issued";
    public const string Rejected = "Rejected";

    /// <summary>The status of a decided request.</summary>
    public static string Of(IssuanceOutcome outcome) => outcome == IssuanceOutcome.Issued ? Issued : Rejected;

    /// <summary>The reason of a decided request: null when issued, else the outcome's name.</summary>
    public static string? ReasonOf(IssuanceOutcome outcome) => outcome == IssuanceOutcome.Issued ? null : outcome.ToString();
}
