using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace CouponAspire.Api.Requests;

/// <summary>
/// How long a client asks to wait for a decision: <c>Prefer: wait=N</c> (RFC 7240), or <c>?wait=N</c> for a client that
/// cannot set a header, N whole seconds from 0 to <see cref="MaxSeconds"/>. The query wins when both are given.
/// </summary>
internal static class WaitPreference
{
    public const int MaxSeconds = 30;
    public const string Name = "wait";

    /// <summary>False with a problem naming <c>wait</c> when it is not a whole number of seconds within the bound.</summary>
    public static bool TryRead(HttpRequest request, string? query, out int? seconds, [NotNullWhen(false)] out ValidationProblem? problem)
    {
        seconds = null;
        problem = null;
        var (value, source) = query is not null ? (query, "the query") : (FromPrefer(request.Headers["Prefer"]), "the Prefer header");
        if (value is null)
        {
            return true;
        }

        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) && parsed <= MaxSeconds)
        {
            seconds = parsed;
            return true;
        }

        problem = ApiValidation.Problem(Name, $"wait must be a whole number of seconds from 0 to {MaxSeconds}; {source} said '{value}'.");
        return false;
    }

    /// <summary>The value of the first <c>wait</c> preference, unquoted; null when none is asked for.</summary>
    private static string? FromPrefer(IEnumerable<string?> headers)
    {
        foreach (var header in headers)
        {
            foreach (var preference in (header ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var token = preference.Split(';', 2)[0];
                var equals = token.IndexOf('=', StringComparison.Ordinal);
                var name = (equals < 0 ? token : token[..equals]).Trim();
                if (name.Equals(Name, StringComparison.OrdinalIgnoreCase))
                {
                    return equals < 0 ? "" : token[(equals + 1)..].Trim().Trim('"');
                }
            }
        }

        return null;
    }
}
