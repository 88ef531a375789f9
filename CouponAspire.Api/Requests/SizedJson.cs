using System.Reflection;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;

namespace CouponAspire.Api.Requests;

/// <summary>
/// An answer with a <c>Location</c> and a JSON body written with its length: a body of unknown length goes out in chunked
/// encoding, which costs the API and every client a framing and a parse on the hottest answers of a flash sale. The body
/// is serialized with the API's JSON options, as <see cref="TypedResults.Accepted{TValue}(string?, TValue)"/> would.
/// </summary>
internal abstract class SizedJson<TValue>(int statusCode, string location, TValue value) : IResult, IStatusCodeHttpResult, IValueHttpResult, IValueHttpResult<TValue>
{
    public int? StatusCode => statusCode;

    public TValue Value => value;

    object? IValueHttpResult.Value => value;

    public string Location => location;

    public Task ExecuteAsync(HttpContext httpContext)
    {
        var options = httpContext.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        var body = JsonSerializer.SerializeToUtf8Bytes(value, options.GetTypeInfo(typeof(TValue)));
        var response = httpContext.Response;
        response.StatusCode = statusCode;
        response.Headers.Location = location;
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = body.Length;
        return response.Body.WriteAsync(body, httpContext.RequestAborted).AsTask();
    }

    /// <summary>Described in the API's OpenAPI document as the typed results of ASP.NET Core are.</summary>
    protected static void Describe(EndpointBuilder builder, int statusCode) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(statusCode, typeof(TValue), ["application/json"]));
}

/// <summary>202 Accepted: the request is taken and will be processed; its state is at the <c>Location</c>.</summary>
internal sealed class SizedAccepted<TValue>(string location, TValue value)
    : SizedJson<TValue>(StatusCodes.Status202Accepted, location, value), IEndpointMetadataProvider
{
    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) => Describe(builder, StatusCodes.Status202Accepted);
}

/// <summary>201 Created: the request was taken and processed while the client waited; the body is its final state.</summary>
internal sealed class SizedCreated<TValue>(string location, TValue value)
    : SizedJson<TValue>(StatusCodes.Status201Created, location, value), IEndpointMetadataProvider
{
    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) => Describe(builder, StatusCodes.Status201Created);
}
