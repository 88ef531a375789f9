namespace CouponAspire.LocalInfrastructure;

/// <summary>
/// <c>.localrun/</c> at the repository root: where CouponAspire.LocalRun leaves the running system's address and
/// development credentials, one file each, for the load generator and scripts. <see cref="AdminTokenFile"/> is written
/// last, so a script may wait for it.
/// </summary>
public static class LocalRunState
{
    public const string ApiUrlFile = "api-url";
    public const string SigningKeyFile = "signing-key";
    public const string AdminTokenFile = "admin.token";

    /// <summary>The directory in the repository of the current directory, else of this tool; else below the current directory.</summary>
    public static string Directory()
    {
        foreach (var start in new[] { System.IO.Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "CouponAspire.sln")))
                {
                    return Path.Combine(directory.FullName, ".localrun");
                }
            }
        }

        return Path.Combine(System.IO.Directory.GetCurrentDirectory(), ".localrun");
    }

    public static void Write(string directory, Uri api, string signingKey, string adminToken)
    {
        System.IO.Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, ApiUrlFile), api.ToString().TrimEnd('/'));
        File.WriteAllText(Path.Combine(directory, SigningKeyFile), signingKey);
        File.WriteAllText(Path.Combine(directory, AdminTokenFile), adminToken);
    }

    /// <summary>One file's content, or null when it is not there.</summary>
    public static string? Read(string directory, string file)
    {
        var path = Path.Combine(directory, file);
        return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
    }
}
