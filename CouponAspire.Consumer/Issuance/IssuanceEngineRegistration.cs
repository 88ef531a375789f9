using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Npgsql;

namespace CouponAspire.Consumer.Issuance;

public static class IssuanceEngineRegistration
{
    /// <summary>Registers the <see cref="IIssuanceEngine"/> chosen by <c>Issuance:Strategy</c>; needs an <see cref="NpgsqlDataSource"/>.</summary>
    public static IServiceCollection AddIssuanceEngine(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<IssuanceOptions>()
            .Bind(configuration.GetSection(IssuanceOptions.SectionName))
            .Validate(o => Enum.IsDefined(o.Strategy), $"{IssuanceOptions.SectionName}:Strategy must be Batched or PerMessage.")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IIssuanceEngine>(sp => Create(
            sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<IssuanceOptions>>().Value.Strategy,
            sp.GetRequiredService<NpgsqlDataSource>(),
            sp.GetRequiredService<TimeProvider>()));
        return services;
    }

    public static IIssuanceEngine Create(IssuanceStrategy strategy, NpgsqlDataSource dataSource, TimeProvider timeProvider) => strategy switch
    {
        IssuanceStrategy.Batched => new BatchedIssuanceEngine(dataSource, timeProvider),
        IssuanceStrategy.PerMessage => new PerMessageIssuanceEngine(dataSource, timeProvider),
        _ => throw new ArgumentOutOfRangeException(nameof(strategy), strategy, "Unknown issuance strategy."),
    };
}
