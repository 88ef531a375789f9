using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Npgsql;

namespace CouponAspire.Api;

/// <summary>
/// Turns what the framework throws for bad input into problem details that name the field at fault (malformed or
/// wrongly typed JSON, unknown fields, a body over the limit, a wrong content type), and a database that cannot be
/// reached into 503. Everything else stays a 500.
/// </summary>
internal sealed partial class ApiExceptionHandler(IProblemDetailsService problemDetails, ILogger<ApiExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        ProblemDetails? problem = exception switch
        {
            BadHttpRequestException { InnerException: JsonException json } bad => new HttpValidationProblemDetails(
                new Dictionary<string, string[]> { [FieldOf(json)] = [JsonMessage(json)] })
            {
                Status = bad.StatusCode,
                Title = "The request body is not valid JSON for this endpoint.",
            },
            // No body, or one the framework could not read: the body as a whole is at fault.
            BadHttpRequestException { StatusCode: StatusCodes.Status400BadRequest } bad => new HttpValidationProblemDetails(
                new Dictionary<string, string[]> { ["body"] = [bad.Message] })
            {
                Status = bad.StatusCode,
                Title = "The request body is missing or unreadable.",
            },
            BadHttpRequestException bad => new ProblemDetails { Status = bad.StatusCode, Title = TitleFor(bad.StatusCode), Detail = bad.Message },
            NpgsqlException or TimeoutException when exception is not NpgsqlException { IsTransient: false } => new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "Database unavailable",
                Detail = "PostgreSQL could not be reached; try again.",
            },
            _ => null,
        };
        if (problem is null)
        {
            return false;
        }

        if (problem.Status == StatusCodes.Status503ServiceUnavailable)
        {
            LogDatabaseUnavailable(exception, httpContext.Request.Path);
        }

        httpContext.Response.StatusCode = problem.Status!.Value;
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = problem, Exception = exception });
    }

    /// <summary>"$.userId" → "userId"; a body that is not JSON at all → "body".</summary>
    private static string FieldOf(JsonException json) =>
        json.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : "body";

    /// <summary>Says what is wrong in the API's terms, without the framework's type names.</summary>
    private static string JsonMessage(JsonException json) => FieldOf(json) switch
    {
        "body" => "The body is not a JSON object of the expected shape.",
        var field when json.Message.Contains("could not be mapped", StringComparison.Ordinal) => $"{field} is not a field of this request.",
        var field => $"{field} has a value of the wrong type, or out of range, or the JSON ends there.",
    };

    private static string TitleFor(int status) => status switch
    {
        StatusCodes.Status413PayloadTooLarge => $"The request body is larger than {CouponApiOptions.MaxRequestBodyBytes} bytes.",
        StatusCodes.Status415UnsupportedMediaType => "The request body must be application/json.",
        _ => "Bad request.",
    };

    [LoggerMessage(LogLevel.Warning, "PostgreSQL unavailable while serving {Path}")]
    private partial void LogDatabaseUnavailable(Exception exception, string path);
}
