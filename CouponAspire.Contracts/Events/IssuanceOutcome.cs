namespace CouponAspire.Contracts.Events;

/// <summary>The one outcome recorded for a request. The names are the API's <c>reason</c> values.</summary>
public enum IssuanceOutcome
{
    /// <summary>The request won a coupon.</summary>
    Issued,

    /// <summary>The user already holds this policy's coupon.</summary>
    AlreadyIssued,

    /// <summary>The policy's quantity was used up by earlier requests.</summary>
    SoldOut,

    /// <summary>No policy with this id exists.</summary>
    PolicyNotFound,

    /// <summary>The request was made outside the policy's opening window.</summary>
    PolicyNotOpen,

    /// <summary>The API could not confirm the publish and told the client so; the request is void.</summary>
    Withdrawn,
}
