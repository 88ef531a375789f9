using System.Reflection;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;

namespace CouponAspire.Api.Requests;

/// <summary>
/// A 202 whose JSON body is written with its length: a body of unknown length goes out in chunked encoding, which costs
/// the API and every client a framing and a parse on the hottest answer of a flash sale. The body is serialized with the
/// API's JSON options, as <see cref="TypedResults.Accepted{TValue}(string?, TValue)"/> would, and described the same way
/// in the API's OpenAPI document.
/// </summary>
internal sealed class SizedAccepted<TValue>(string location, TValue value) : IResult, IStatusCodeHttpResult, IValueHttpResult, IValueHttpResult<TValue>, IEndpointMetadataProvider
{
    public int? StatusCode => StatusCodes.Status202Accepted;

    public TValue Value => value;

    object? IValueHttpResult.Value => value;

    public string Location => location;

    public Task ExecuteAsync(HttpContext httpContext)
    {
        var options = httpContext.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        var body = JsonSerializer.SerializeToUtf8Bytes(value, options.GetTypeInfo(typeof(TValue)));
        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status202Accepted;
        response.Headers.Location = location;
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = body.Length;
        return response.Body.WriteAsync(body, httpContext.RequestAborted).AsTask();
    }

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status202Accepted, typeof(TValue), ["application/json"]));
}
