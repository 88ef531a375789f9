using CouponAspire.Contracts.Security;
using CouponAspire.LocalInfrastructure;

namespace CouponAspire.AppHost;

/// <summary>
/// The settings of the API's JWT bearer handler (configuration section <c>Authentication:Schemes:Bearer</c>), given
/// to the API, which validates tokens with them, and to the load generator, which mints tokens with them.
/// </summary>
internal static class BearerTokenSettings
{
    public const string Issuer = DevelopmentTokens.DefaultIssuer;
    public const string Audience = DevelopmentTokens.DefaultAudience;

    public static IResourceBuilder<ProjectResource> WithBearerTokenSettings(
        this IResourceBuilder<ProjectResource> project, IResourceBuilder<ParameterResource> signingKey) =>
        project
            .WithEnvironment(Variable(BearerTokens.ValidIssuerKey), Issuer)
            .WithEnvironment(Variable(BearerTokens.ValidAudienceKey), Audience)
            .WithEnvironment(Variable(BearerTokens.SigningKeyIssuerKey), Issuer)
            .WithEnvironment(Variable(BearerTokens.SigningKeyValueKey), signingKey);

    /// <summary>A configuration key as an environment variable name (<c>a:b</c> is <c>a__b</c>).</summary>
    private static string Variable(string key) => key.Replace(":", "__", StringComparison.Ordinal);
}
