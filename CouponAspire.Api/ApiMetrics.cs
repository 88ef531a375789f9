using System.Diagnostics.Metrics;

namespace CouponAspire.Api;

/// <summary>The API's request metrics on the <see cref="MeterName"/> meter.</summary>
internal sealed class ApiMetrics
{
    public const string MeterName = "CouponAspire.Api";

    private readonly Counter<long> _accepted;
    private readonly Counter<long> _rejected;

    public ApiMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _accepted = meter.CreateCounter<long>("coupon.requests.accepted", "{request}", "Issue requests published to Kafka and answered 202.");
        _rejected = meter.CreateCounter<long>("coupon.requests.rejected", "{request}", "Issue requests refused by the API, by reason.");
    }

    public void Accepted() => _accepted.Add(1);

    /// <param name="reason">
    /// <c>Invalid</c>, <c>Forbidden</c>, <c>RateLimited</c>, <c>PolicyNotFound</c>, <c>PolicyNotOpen</c>, <c>SoldOut</c>, <c>BrokerUnavailable</c>.
    /// </param>
    public void Rejected(string reason) => _rejected.Add(1, new KeyValuePair<string, object?>("coupon.rejection.reason", reason));
}
