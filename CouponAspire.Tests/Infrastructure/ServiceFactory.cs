using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CouponAspire.Tests.Infrastructure;

/// <summary>
/// Hosts the real API or consumer (<typeparamref name="TEntryPoint"/> is any type of its assembly) in the test
/// process, configured only through the keys a deployment would use, set before the service reads them.
/// </summary>
/// <param name="name">The service's name in the test's output and <paramref name="log"/>.</param>
public sealed class ServiceFactory<TEntryPoint>(
    IReadOnlyDictionary<string, string?> settings,
    ITestOutputHelper? output,
    Action<IServiceCollection>? configureServices = null,
    string? name = null,
    ServiceLog? log = null)
    : WebApplicationFactory<TEntryPoint> where TEntryPoint : class
{
    public string Name { get; } = name ?? typeof(TEntryPoint).Assembly.GetName().Name!;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureLogging(logging =>
        {
            logging.ClearProviders();
            logging.AddProvider(new TestOutputLoggerProvider(output, Name, log));
        });
        builder.ConfigureServices(services =>
        {
            services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(15));
            configureServices?.Invoke(services);
        });
    }
}
