using System.Data.Common;
using Confluent.Kafka;

namespace CouponAspire.Kafka;

/// <summary>
/// The Kafka connection string every part of the product reads (<c>ConnectionStrings:kafka</c>, the load generator's
/// <c>--kafka</c>): bare bootstrap servers, or <c>BootstrapServers=…;SecurityProtocol=…;Sasl…=…</c> as Aspire writes it.
/// </summary>
public static class KafkaConnectionString
{
    /// <summary>Sets the cluster's address and credentials on a client's settings.</summary>
    public static TConfig Apply<TConfig>(string connectionString, TConfig config) where TConfig : ClientConfig
    {
        if (!connectionString.Contains('='))
        {
            config.BootstrapServers = connectionString;
            return config;
        }

        var parts = new DbConnectionStringBuilder { ConnectionString = connectionString };
        foreach (string key in parts.Keys)
        {
            var value = (string)parts[key];
            switch (key.ToLowerInvariant())
            {
                case "bootstrapservers": config.BootstrapServers = value; break;
                case "securityprotocol": config.SecurityProtocol = Enum.Parse<SecurityProtocol>(value, ignoreCase: true); break;
                case "saslmechanism": config.SaslMechanism = Enum.Parse<SaslMechanism>(value, ignoreCase: true); break;
                case "saslusername": config.SaslUsername = value; break;
                case "saslpassword": config.SaslPassword = value; break;
                default: throw new InvalidOperationException($"Unsupported key '{key}' in the Kafka connection string.");
            }
        }

        return config;
    }
}
