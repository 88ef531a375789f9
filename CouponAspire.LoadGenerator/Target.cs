using CouponAspire.LocalInfrastructure;
using Microsoft.Extensions.Configuration;

namespace CouponAspire.LoadGenerator;

/// <summary>What the command line says about the API to drive; anything left out comes from configuration or the local run.</summary>
internal sealed record TargetOptions(string? Api, string? SigningKey, string? Issuer, string? Audience, bool FromLocalRun);

/// <summary>The API to drive and the tokens it trusts, with where each came from (a wrong key is easier to spot that way).</summary>
internal sealed record Target(Uri Api, DevelopmentTokens Tokens, string ApiSource, string SigningKeySource)
{
    // The keys the AppHost sets: service discovery for the API's address, and the API's own JWT bearer settings.
    public const string ApiKey = "services:api:http:0";
    public const string SigningKeyKey = "Authentication:Schemes:Bearer:SigningKeys:0:Value";
    public const string IssuerKey = "Authentication:Schemes:Bearer:ValidIssuer";
    public const string AudienceKey = "Authentication:Schemes:Bearer:ValidAudiences:0";

    public static Target Resolve(TargetOptions options, IConfiguration configuration, string localRunDirectory)
    {
        var localApi = LocalRunState.Read(localRunDirectory, LocalRunState.ApiUrlFile);
        var localKey = LocalRunState.Read(localRunDirectory, LocalRunState.SigningKeyFile);
        if (options.FromLocalRun && (localApi is null || localKey is null))
        {
            throw new CannotRunException($"No api-url and signing-key in {localRunDirectory}: start the system with `dotnet run --project CouponAspire.LocalRun` first.");
        }

        var (api, apiSource) = Pick(options.Api, ApiKey, localApi, LocalRunState.ApiUrlFile);
        var (key, keySource) = Pick(options.SigningKey, SigningKeyKey, localKey, LocalRunState.SigningKeyFile);
        if (api is null || key is null)
        {
            throw new CannotRunException(
                $"Which API? Give --api and --signing-key, set {ApiKey} and {SigningKeyKey} (environment variables with __ for :), or start CouponAspire.LocalRun so that {localRunDirectory} exists.");
        }

        if (!Uri.TryCreate(api, UriKind.Absolute, out var apiUri) || apiUri.Scheme is not ("http" or "https"))
        {
            throw new CannotRunException($"The API address '{api}' ({apiSource}) is not an http(s) URL.");
        }

        try
        {
            var tokens = new DevelopmentTokens(
                key,
                options.Issuer ?? configuration[IssuerKey] ?? DevelopmentTokens.DefaultIssuer,
                options.Audience ?? configuration[AudienceKey] ?? DevelopmentTokens.DefaultAudience);
            return new Target(apiUri, tokens, apiSource, keySource);
        }
        catch (FormatException e)
        {
            throw new CannotRunException($"The signing key ({keySource}) is not base64.", e);
        }

        // The command line wins; --from-local-run puts the local run before configuration, which otherwise comes first.
        (string? Value, string Source) Pick(string? commandLine, string configurationKey, string? localRun, string localRunFile)
        {
            if (commandLine is not null)
            {
                return (commandLine, "command line");
            }

            var configured = configuration[configurationKey];
            return options.FromLocalRun || configured is null
                ? (localRun, Path.Combine(localRunDirectory, localRunFile))
                : (configured, $"configuration {configurationKey}");
        }
    }
}
