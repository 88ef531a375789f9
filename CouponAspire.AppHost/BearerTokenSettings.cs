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
            .WithEnvironment("Authentication__Schemes__Bearer__ValidIssuer", Issuer)
            .WithEnvironment("Authentication__Schemes__Bearer__ValidAudiences__0", Audience)
            .WithEnvironment("Authentication__Schemes__Bearer__SigningKeys__0__Issuer", Issuer)
            .WithEnvironment("Authentication__Schemes__Bearer__SigningKeys__0__Value", signingKey);
}
