namespace CouponAspire.Data;

/// <summary>The one definition of "open", shared by the API's gate and both issuance strategies.</summary>
public static class IssuanceWindow
{
    public static bool Contains(DateTimeOffset? startsAt, DateTimeOffset? endsAt, DateTimeOffset instant) =>
        (startsAt is null || instant >= startsAt) && (endsAt is null || instant < endsAt);
}
