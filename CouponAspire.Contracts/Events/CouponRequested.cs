namespace CouponAspire.Contracts.Events;

/// <summary>
/// Published to <see cref="CouponTopics.Requests"/> for every issue request the API accepted, keyed by the
/// policy id so that one policy's requests are totally ordered on one partition. A public contract: other
/// systems may subscribe to it, so fields are only ever added, and a breaking change gets a new
/// <see cref="Version"/>.
/// </summary>
/// <param name="RequestId">
/// Assigned by the API: an opaque, URL-safe string of at most <see cref="MaxRequestIdLength"/> characters, the id the
/// client polls and the idempotency key of the decision. Readers must not parse it.
/// </param>
/// <param name="PolicyId">The coupon policy asked for (also the message key).</param>
/// <param name="UserId">The user asking.</param>
/// <param name="RequestedAt">When the API received the request (UTC); decides whether the policy was open.</param>
/// <param name="Version">The format version, <see cref="CurrentVersion"/> when written by this code.</param>
public sealed record CouponRequested(string RequestId, long PolicyId, long UserId, DateTimeOffset RequestedAt, int Version = CouponRequested.CurrentVersion)
{
    /// <summary>
    /// Version 2: <see cref="RequestId"/> is an opaque string. Version 1 carried a UUID there, which reads as such a
    /// string too: both are read.
    /// </summary>
    public const int CurrentVersion = 2;

    public const int MaxRequestIdLength = 64;

    /// <summary>The versions this code reads.</summary>
    public static bool IsReadable(int version) => version is 1 or CurrentVersion;
}
