using CouponAspire.Contracts.Security;
using CouponAspire.LocalInfrastructure;
using Microsoft.Extensions.Configuration;

namespace CouponAspire.LoadGenerator;

/// <summary>What the command line says about the API to drive; anything left out comes from configuration or the AppHost's credentials folder.</summary>
internal sealed record TargetOptions(string? Api, string? Kafka, string? SigningKey, string? Issuer, string? Audience);

/// <summary>
/// The API to drive, the tokens it trusts and the Kafka whose log the sale is judged against (null when not known), with
/// where each came from (a wrong key is easier to spot that way).
/// </summary>
internal sealed record Target(Uri Api, DevelopmentTokens Tokens, string? Kafka, string ApiSource, string SigningKeySource, string KafkaSource)
{
    // The keys the AppHost sets: service discovery for the API's address, Kafka's connection string, and the API's own
    // JWT bearer settings.
    public const string ApiKey = "services:api:http:0";
    public const string KafkaKey = "ConnectionStrings:kafka";
    public const string SigningKeyKey = BearerTokens.SigningKeyValueKey;
    public const string IssuerKey = BearerTokens.ValidIssuerKey;
    public const string AudienceKey = BearerTokens.ValidAudienceKey;

    public static Target Resolve(TargetOptions options, IConfiguration configuration, string credentialsFolder)
    {
        var (api, apiSource) = Pick(options.Api, ApiKey, DevelopmentCredentials.ApiUrlFile);
        var (key, keySource) = Pick(options.SigningKey, SigningKeyKey, DevelopmentCredentials.SigningKeyFile);
        var (kafka, kafkaSource) = Pick(options.Kafka, KafkaKey, DevelopmentCredentials.KafkaFile);
        if (api is null || key is null)
        {
            throw new CannotRunException(
                $"Which API? Give --api and --signing-key, set {ApiKey} and {SigningKeyKey} (environment variables with __ for :), or start the AppHost (dotnet run --project CouponAspire.AppHost) so that {credentialsFolder} exists.");
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
            return new Target(apiUri, tokens, kafka is { Length: > 0 } ? kafka : null, apiSource, keySource, kafkaSource);
        }
        catch (FormatException e)
        {
            throw new CannotRunException($"The signing key ({keySource}) is not base64.", e);
        }

        // The command line wins, then configuration (what the AppHost gives its loadgen resource), then the folder the
        // AppHost writes for everyone else.
        (string? Value, string Source) Pick(string? commandLine, string configurationKey, string file)
        {
            if (commandLine is not null)
            {
                return (commandLine, "command line");
            }

            return configuration[configurationKey] is { } configured
                ? (configured, $"configuration {configurationKey}")
                : (DevelopmentCredentials.Read(credentialsFolder, file), Path.Combine(credentialsFolder, file));
        }
    }
}
