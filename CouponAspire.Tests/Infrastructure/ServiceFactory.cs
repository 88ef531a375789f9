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
public sealed class ServiceFactory<TEntryPoint>(
    IReadOnlyDictionary<string, string?> settings, ITestOutputHelper? output, Action<IServiceCollection>? configureServices = null)
    : WebApplicationFactory<TEntryPoint> where TEntryPoint : class
{
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
            if (output is not null)
            {
                logging.AddProvider(new TestOutputLoggerProvider(output, typeof(TEntryPoint).Assembly.GetName().Name!));
            }
        });
        builder.ConfigureServices(services =>
        {
            services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(15));
            configureServices?.Invoke(services);
        });
    }
}
