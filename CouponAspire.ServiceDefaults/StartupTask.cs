using Microsoft.Extensions.Hosting;

namespace CouponAspire.ServiceDefaults;

/// <summary>
/// Work a service does once before anything else of it starts (hosted services' <c>StartingAsync</c> runs before any
/// <c>StartAsync</c>): when it fails, the service does not start.
/// </summary>
public abstract class StartupTask : IHostedLifecycleService
{
    protected abstract Task RunAsync(CancellationToken cancellationToken);

    Task IHostedLifecycleService.StartingAsync(CancellationToken cancellationToken) => RunAsync(cancellationToken);

    Task IHostedService.StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedLifecycleService.StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedLifecycleService.StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedService.StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedLifecycleService.StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
