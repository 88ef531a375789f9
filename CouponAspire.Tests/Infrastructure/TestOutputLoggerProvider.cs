using Microsoft.Extensions.Logging;

namespace CouponAspire.Tests.Infrastructure;

/// <summary>
/// Writes a hosted service's warnings and errors (and the consumer's group changes) to the test's output, and what
/// the service's own categories log, information and up, to the system's <see cref="ServiceLog"/>.
/// </summary>
public sealed class TestOutputLoggerProvider(ITestOutputHelper? output, string service, ServiceLog? log = null) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new Logger(output, service, categoryName, log);

    public void Dispose()
    {
    }

    private sealed class Logger(ITestOutputHelper? output, string service, string category, ServiceLog? log) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        private readonly bool _own = category.StartsWith("CouponAspire.", StringComparison.Ordinal);

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning || (logLevel >= LogLevel.Information && _own);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            var message = formatter(state, exception);
            if (_own)
            {
                log?.Add(service, message);
            }

            // The test's output gets trouble and the consumer group's changes, not every batch.
            if (logLevel < LogLevel.Warning && !category.EndsWith("CouponRequestConsumer", StringComparison.Ordinal))
            {
                return;
            }

            try
            {
                output?.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {service} {logLevel} {category}: {message}{(exception is null ? "" : " " + exception.GetType().Name + ": " + exception.Message)}");
            }
            catch (InvalidOperationException)
            {
                // The test has finished; its output is closed.
            }
        }
    }
}
