namespace CouponAspire.Contracts.Security;

/// <summary>
/// What a bearer token the API accepts looks like, for whoever issues them (an identity provider, the AppHost's
/// development tokens, the load generator): the subject is the user id, the <c>role</c> claim may make the caller an
/// administrator. The API's JWT bearer handler is configured from <see cref="SettingsSection"/>.
/// </summary>
public static class BearerTokens
{
    /// <summary>May create policies and ask for coupons on any user's behalf (a back office, the load generator).</summary>
    public const string AdminRole = "coupon-admin";

    public const string SubjectClaim = "sub";
    public const string RoleClaim = "role";

    /// <summary>ASP.NET Core's section for the default JWT bearer scheme (what <c>dotnet user-jwts</c> writes).</summary>
    public const string SettingsSection = "Authentication:Schemes:Bearer";

    public const string ValidIssuerKey = SettingsSection + ":ValidIssuer";
    public const string ValidAudienceKey = SettingsSection + ":ValidAudiences:0";
    public const string SigningKeyIssuerKey = SettingsSection + ":SigningKeys:0:Issuer";
    public const string SigningKeyValueKey = SettingsSection + ":SigningKeys:0:Value";
}
