using System.Text.Json.Serialization;
using CouponAspire.Api.Decisions;
using CouponAspire.Api.Policies;
using CouponAspire.Api.Requests;
using CouponAspire.Contracts;
using CouponAspire.Contracts.Events;
using CouponAspire.Kafka;

namespace CouponAspire.Api;

public static class CouponApiServices
{
    public static IHostApplicationBuilder AddCouponApiServices(this IHostApplicationBuilder builder)
    {
        builder.AddCouponDatabase();
        builder.AddKafkaProducer<string, byte[]>("kafka", CouponRequestsProducer.Configure);
        builder.AddKafkaTopicProvisioning("CouponEvents", CouponTopics.Requests, CouponTopics.Decisions);
        builder.AddKafkaConsumerFactory<byte[]?, byte[]?>("kafka", config =>
        {
            // The decisions follower assigns itself every partition and commits nothing: the group is only a name.
            config.GroupId = "coupon-api-decisions";
            config.EnableAutoCommit = false;
            config.EnableAutoOffsetStore = false;
            config.AllowAutoCreateTopics = false;
        });
        builder.Services.AddHostedService<PublisherWarmUp>();
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter(ApiMetrics.MeterName));

        builder.Services.AddOptions<CouponApiOptions>().Bind(builder.Configuration.GetSection(CouponApiOptions.SectionName));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<PolicyGate>();
        builder.Services.AddHostedService(services => services.GetRequiredService<PolicyGate>());
        // Outside Development the API does not start without its key: ids signed with a key of its own would read as not
        // found after a restart and on every other instance.
        var development = builder.Environment.IsDevelopment();
        builder.Services.AddOptions<RequestIdOptions>()
            .Bind(builder.Configuration.GetSection(RequestIdOptions.SectionName))
            .Validate(o => development || o.Key is { Length: > 0 }, $"No {RequestIdOptions.SectionName}:Key configured: set it (base64, at least {RequestIdOptions.MinKeyBytes} bytes, the same on every API instance).")
            .ValidateOnStart();
        builder.Services.AddSingleton<RequestIds>();
        builder.Services.AddSingleton<RequestWithdrawals>();
        builder.Services.AddOptions<DecisionsOptions>()
            .Bind(builder.Configuration.GetSection(DecisionsOptions.SectionName))
            .Validate(o => o.Capacity > 0 && o.MaxAge > TimeSpan.Zero, $"{DecisionsOptions.SectionName}: Capacity and MaxAge must be positive.")
            .ValidateOnStart();
        builder.Services.AddSingleton<RecentDecisions>();
        builder.Services.AddSingleton<PolicyCounters>();
        builder.Services.AddSingleton<RequestOutcomes>();
        builder.Services.AddHostedService<DecisionFollower>();
        builder.Services.AddSingleton<CouponRequestPublisher>();
        builder.Services.AddSingleton<CouponRequestAdmission>();
        builder.Services.AddSingleton<ApiMetrics>();

        builder.Services.AddApiSecurity();
        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<ApiExceptionHandler>();
        builder.Services.ConfigureHttpJsonOptions(json =>
        {
            // Strict input: a number is a JSON number, and a field this API does not know is an error.
            json.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
            json.SerializerOptions.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
            json.SerializerOptions.TypeInfoResolverChain.Insert(0, ApiJsonContext.Default);
        });
        // Bad JSON becomes an exception that ApiExceptionHandler answers with the field at fault, in every environment.
        builder.Services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        builder.Services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(kestrel =>
            kestrel.Limits.MaxRequestBodySize = CouponApiOptions.MaxRequestBodyBytes);
        builder.Services.AddOpenApi();
        return builder;
    }
}
