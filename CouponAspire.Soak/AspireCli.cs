using System.Diagnostics;
using System.Text.Json;

namespace CouponAspire.Soak;

/// <summary>
/// The Aspire CLI (<c>aspire</c>, a dotnet tool) against the running AppHost: its resources, and the commands the
/// dashboard's rows offer (stop, start, restart) — the soak restarts things the way a user would.
/// </summary>
internal sealed class AspireCli(string executable, string workingDirectory)
{
    /// <summary>The names of a project's replicas (<c>consumer-abcd1234</c>), or the project's own name when it has one.</summary>
    public async Task<List<string>> ReplicasAsync(string displayName, CancellationToken cancellationToken)
    {
        var (exit, output, errors) = await RunAsync(cancellationToken, "describe", "--format", "Json");
        if (exit != 0)
        {
            throw new InvalidOperationException($"aspire describe failed ({exit}): {output}{errors}");
        }

        // The JSON document, and nothing after it (the CLI may write its status lines to the same stream).
        var reader = new Utf8JsonReader(System.Text.Encoding.UTF8.GetBytes(output[output.IndexOf('{', StringComparison.Ordinal)..]), new JsonReaderOptions { AllowTrailingCommas = true });
        using var json = JsonDocument.ParseValue(ref reader);
        var names = new List<string>();
        foreach (var resource in Resources(json.RootElement))
        {
            var name = resource.TryGetProperty("name", out var n) ? n.GetString() : null;
            var display = resource.TryGetProperty("displayName", out var d) ? d.GetString() : null;
            if (name is not null && (display == displayName || name == displayName))
            {
                names.Add(name);
            }
        }

        return [.. names.Distinct().Order(StringComparer.Ordinal)];
    }

    /// <summary>Runs a resource's command (<c>stop</c>, <c>start</c>, <c>restart</c>) and waits for it to complete.</summary>
    public async Task CommandAsync(string resource, string command, CancellationToken cancellationToken)
    {
        var (exit, output, errors) = await RunAsync(cancellationToken, "resource", resource, command);
        if (exit != 0)
        {
            throw new InvalidOperationException($"aspire resource {resource} {command} failed ({exit}): {(output + errors).Trim()}");
        }
    }

    private static IEnumerable<JsonElement> Resources(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                if (element.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String)
                {
                    yield return element;
                }

                foreach (var property in element.EnumerateObject())
                {
                    foreach (var inner in Resources(property.Value))
                    {
                        yield return inner;
                    }
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    foreach (var inner in Resources(item))
                    {
                        yield return inner;
                    }
                }

                break;
        }
    }

    private async Task<(int ExitCode, string Output, string Errors)> RunAsync(CancellationToken cancellationToken, params string[] arguments)
    {
        var start = new ProcessStartInfo(executable)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["ASPIRE_CLI_TELEMETRY_OPTOUT"] = "true";
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {executable}.");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}
