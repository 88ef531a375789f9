using System.Globalization;
using CouponAspire.Data;

namespace CouponAspire.LocalInfrastructure;

/// <summary>
/// The configuration the API and the consumer run with in a local system (the tests, the benchmarks), with the keys
/// the AppHost sets: the connection strings, the partitions of <c>coupon-events</c>, what the mock cluster needs, and
/// the bearer-token settings that make the API trust <c>tokens</c> (none for a consumer alone), and the key its request
/// ids are signed with, shared by every API instance of the system.
/// </summary>
public static class ServiceSettings
{
    /// <summary>The API's <c>RequestIdOptions.Key</c>.</summary>
    public const string RequestIdKey = "CouponApi:RequestIds:Key";

    public static Dictionary<string, string?> For(string kafkaBootstrapServers, string databaseConnectionString, DevelopmentTokens? tokens, int partitions, int fetchWaitMaxMs = 10)
    {
        var settings = new Dictionary<string, string?>(LocalKafka.ConsumerSettings(fetchWaitMaxMs).Concat(tokens?.ApiSettings() ?? new Dictionary<string, string?>()))
        {
            ["ConnectionStrings:kafka"] = kafkaBootstrapServers,
            [$"ConnectionStrings:{CouponDatabase.ConnectionName}"] = databaseConnectionString,
            ["CouponEvents:Partitions"] = partitions.ToString(CultureInfo.InvariantCulture),
        };
        if (tokens is not null)
        {
            settings[RequestIdKey] = DevelopmentTokens.NewSigningKey();
        }

        return settings;
    }
}
