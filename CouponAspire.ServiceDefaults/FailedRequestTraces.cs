using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace CouponAspire.ServiceDefaults;

/// <summary>
/// Exports a request that fails (5xx) although its trace was not sampled: the request's own server span does not exist
/// then (<see cref="TraceSampling"/>), so a span is started for the failure in the request's trace, with the request's
/// method, route, status, start and exception, and its <see cref="TraceSampling.ErrorTypeTag"/>, which has it sampled.
/// The outermost middleware, so that it sees the status the exception handler chose.
/// </summary>
public static class FailedRequestTraces
{
    public const string SourceName = "CouponAspire.ServiceDefaults";

    private static readonly ActivitySource Source = new(SourceName);

    internal sealed class StartupFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(static async (context, nextMiddleware) =>
            {
                try
                {
                    await nextMiddleware(context);
                }
                finally
                {
                    if (context.Response.StatusCode >= StatusCodes.Status500InternalServerError && Activity.Current is not { Recorded: true })
                    {
                        Record(context, Activity.Current);
                    }
                }
            });
            next(app);
        };
    }

    private static void Record(HttpContext context, Activity? request)
    {
        var status = context.Response.StatusCode;
        // The exception handler clears the endpoint before it answers; its feature keeps the one that failed.
        var handled = context.Features.Get<IExceptionHandlerFeature>();
        var exception = handled?.Error;
        var route = ((handled?.Endpoint ?? context.GetEndpoint()) as RouteEndpoint)?.RoutePattern.RawText;
        using var span = Source.StartActivity(
            ActivityKind.Server,
            request?.Context ?? default,
            tags: [new(TraceSampling.ErrorTypeTag, exception?.GetType().FullName ?? status.ToString(System.Globalization.CultureInfo.InvariantCulture))],
            startTime: request?.StartTimeUtc ?? default,
            name: route is null ? context.Request.Method : $"{context.Request.Method} {route}");
        if (span is null)
        {
            return;
        }

        span.SetStatus(ActivityStatusCode.Error)
            .SetTag("http.request.method", context.Request.Method)
            .SetTag("http.route", route)
            .SetTag("url.path", context.Request.Path.Value)
            .SetTag("http.response.status_code", status);
        if (exception is not null)
        {
            span.AddException(exception);
        }
    }
}
