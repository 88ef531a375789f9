namespace CouponAspire.ServiceDefaults;

/// <summary>
/// The names of the product's activity sources and meters, one per concern, registered with OpenTelemetry by
/// <see cref="Extensions.ConfigureOpenTelemetry{TBuilder}"/>.
/// </summary>
public static class CouponTelemetry
{
    /// <summary>Kafka publish and process spans, and the Kafka client metrics (publish, consume, lag).</summary>
    public const string Kafka = "CouponAspire.Kafka";

    /// <summary>The API's request metrics (accepted, rejected).</summary>
    public const string Api = "CouponAspire.Api";

    /// <summary>The consumer's decision metrics (outcomes, time to decision, batch sizes).</summary>
    public const string Issuance = "CouponAspire.Issuance";

    public static readonly string[] ActivitySourceNames = [Kafka];
    public static readonly string[] MeterNames = [Kafka, Api, Issuance];
}
