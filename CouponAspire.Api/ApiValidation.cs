using System.Globalization;

namespace CouponAspire.Api;

/// <summary>Input rules of the HTTP contract; every error names the field at fault, in the JSON's casing.</summary>
internal static class ApiValidation
{
    /// <summary>Ids of policies, users and coupons are positive 64-bit integers, written in plain decimal digits.</summary>
    public static bool TryParseId(string? value, out long id) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out id) && id > 0;

    public static ValidationProblem InvalidId(string field) =>
        Problem(field, $"{field} must be a positive 64-bit integer.");

    public static ValidationProblem Problem(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] });
}
