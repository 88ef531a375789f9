using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace CouponAspire.Tests.AppHost;

/// <summary>The manifest azd deploys from, as <c>dotnet run --project CouponAspire.AppHost -- --publisher manifest</c> writes it.</summary>
public sealed partial class ManifestTests
{
    [Theory(Timeout = Timeouts.System)]
    [InlineData("ConnectionString")]
    [InlineData("Container")]
    public async Task The_manifest_describes_the_system_and_every_reference_in_it_names_one_of_its_resources(string publishKafka)
    {
        var manifest = await PublishManifestAsync($"--PublishKafka={publishKafka}");
        var resources = manifest.RootElement.GetProperty("resources");
        var names = resources.EnumerateObject().Select(r => r.Name).ToHashSet();

        string[] expected = ["kafka", "postgres", "coupondb", "token-signing-key", "request-id-key", "migrations", "api", "consumer"];
        expected.ShouldBeSubsetOf(names);
        names.ShouldNotContain("loadgen");
        names.ShouldNotContain("kafka-ui");
        resources.GetProperty("kafka").GetProperty("type").GetString().ShouldBe(publishKafka == "Container" ? "container.v0" : "parameter.v0");
        resources.GetProperty("api").GetProperty("type").GetString().ShouldBe("project.v0");
        resources.GetProperty("consumer").GetProperty("env").GetProperty("ConnectionStrings__kafka").GetString().ShouldBe("{kafka.connectionString}");

        // What azd's manifest reader knows (project, container, dockerfile, dapr, parameter, value, azure.bicep).
        string[] deployable = ["project.v0", "project.v1", "container.v0", "container.v1", "parameter.v0", "value.v0"];
        resources.EnumerateObject().Select(r => r.Value.GetProperty("type").GetString()).ShouldAllBe(type => deployable.Contains(type));

        var references = Strings(manifest.RootElement).SelectMany(value => Reference().Matches(value).Select(m => (Value: value, Resource: m.Groups[1].Value)));
        references.Where(r => !names.Contains(r.Resource)).ShouldBeEmpty("every {resource.property} in the manifest must name a resource of the manifest");
    }

    /// <summary>Runs the built AppHost in publish mode, as azd does, and reads what it wrote.</summary>
    private static async Task<JsonDocument> PublishManifestAsync(params string[] settings)
    {
        var output = Path.Combine(Directory.CreateTempSubdirectory("couponaspire-manifest-").FullName, "aspire-manifest.json");
        var configuration = typeof(ManifestTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;
        var start = new ProcessStartInfo("dotnet", [
            "run", "--project", Projects.CouponAspire_AppHost.ProjectPath, "--no-build", "-c", configuration, "--no-launch-profile",
            "--", "--publisher", "manifest", "--output-path", output, .. settings])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var log = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var errors = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken);
        process.ExitCode.ShouldBe(0, await log + await errors);
        return JsonDocument.Parse(await File.ReadAllTextAsync(output, TestContext.Current.CancellationToken));
    }

    private static IEnumerable<string> Strings(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => [element.GetString()!],
        JsonValueKind.Object => element.EnumerateObject().SelectMany(p => Strings(p.Value)),
        JsonValueKind.Array => element.EnumerateArray().SelectMany(Strings),
        _ => [],
    };

    [GeneratedRegex(@"\{([A-Za-z0-9-]+)\.[^{}]+\}")]
    private static partial Regex Reference();
}
