using Microsoft.Extensions.Logging;

namespace CouponAspire.Tests.Infrastructure;

/// <summary>Writes a hosted service's warnings and errors (and the consumer's group changes) to the test's output.</summary>
public sealed class TestOutputLoggerProvider(ITestOutputHelper output, string service) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new Logger(output, service, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(ITestOutputHelper output, string service, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) =>
            logLevel >= LogLevel.Warning || (logLevel >= LogLevel.Information && category.StartsWith("CouponAspire.Consumer", StringComparison.Ordinal));

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            try
            {
                output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {service} {logLevel} {category}: {formatter(state, exception)}{(exception is null ? "" : " " + exception.GetType().Name + ": " + exception.Message)}");
            }
            catch (InvalidOperationException)
            {
                // The test has finished; its output is closed.
            }
        }
    }
}
