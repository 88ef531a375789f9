using CouponAspire.Contracts.Events;
using CouponAspire.Contracts.Schema;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace CouponAspire.Contracts;

public static class CouponStartupTasks
{
    /// <summary>
    /// What every service does before it serves: migrate the schema (<see cref="CouponDatabaseMigrator"/>), then make
    /// sure the topics exist (<see cref="CouponTopicProvisioner"/>, configured by the <c>CouponEvents</c> section).
    /// </summary>
    public static IServiceCollection AddCouponStartupTasks(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<CouponEventsOptions>()
            .Bind(configuration.GetSection(CouponEventsOptions.SectionName))
            .Validate(o => o.Partitions > 0, $"{CouponEventsOptions.SectionName}:Partitions must be positive.")
            .ValidateOnStart();
        services.AddHostedService<CouponDatabaseMigrator>();
        services.AddHostedService<CouponTopicProvisioner>();
        return services;
    }
}
