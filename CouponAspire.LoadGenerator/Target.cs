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
        var localApi = ReadLocalRun(localRunDirectory, "api-url");
        var localKey = ReadLocalRun(localRunDirectory, "signing-key");
        if (options.FromLocalRun && (localApi is null || localKey is null))
        {
            throw new CannotRunException($"No api-url and signing-key in {localRunDirectory}: start the system with `dotnet run --project CouponAspire.LocalRun` first.");
        }

        var (api, apiSource) = Pick(options.Api, ApiKey, localApi, "api-url");
        var (key, keySource) = Pick(options.SigningKey, SigningKeyKey, localKey, "signing-key");
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

    /// <summary><c>.localrun/</c> at the root of the repository this tool runs in (or below the current directory's).</summary>
    public static string LocalRunDirectory()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "CouponAspire.sln")))
                {
                    return Path.Combine(directory.FullName, ".localrun");
                }
            }
        }

        return Path.Combine(Directory.GetCurrentDirectory(), ".localrun");
    }

    private static string? ReadLocalRun(string directory, string file)
    {
        var path = Path.Combine(directory, file);
        return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
    }
}
