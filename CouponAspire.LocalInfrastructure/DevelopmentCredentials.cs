namespace CouponAspire.LocalInfrastructure;

/// <summary>
/// <c>.couponaspire/</c> at the repository root: where the AppHost leaves the running system's address and development
/// credentials once it is ready, one file each, for the load generator, scripts and curl. <see cref="AdminTokenFile"/>
/// is written last, so a script may wait for it.
/// </summary>
public static class DevelopmentCredentials
{
    public const string FolderName = ".couponaspire";
    public const string ApiUrlFile = "api-url";
    public const string SigningKeyFile = "signing-key";
    public const string AdminTokenFile = "admin.token";

    /// <summary>Kafka's bootstrap servers as clients on this machine reach them (for kcat, or a benchmark).</summary>
    public const string KafkaFile = "kafka";

    /// <summary>PostgreSQL's connection string to <c>coupondb</c> (for psql, or a service started by hand beside the AppHost's).</summary>
    public const string DatabaseFile = "coupondb";

    /// <summary>The folder in the repository of the current directory, else of this tool; else below the current directory.</summary>
    public static string Folder()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "CouponAspire.sln")))
                {
                    return Path.Combine(directory.FullName, FolderName);
                }
            }
        }

        return Path.Combine(Directory.GetCurrentDirectory(), FolderName);
    }

    public static void Write(string folder, Uri api, string kafka, string database, string signingKey, string adminToken)
    {
        Directory.CreateDirectory(folder);
        File.Delete(Path.Combine(folder, AdminTokenFile));
        File.WriteAllText(Path.Combine(folder, ApiUrlFile), api.ToString().TrimEnd('/'));
        File.WriteAllText(Path.Combine(folder, KafkaFile), kafka);
        File.WriteAllText(Path.Combine(folder, DatabaseFile), database);
        File.WriteAllText(Path.Combine(folder, SigningKeyFile), signingKey);
        File.WriteAllText(Path.Combine(folder, AdminTokenFile), adminToken);
    }

    /// <summary>One file's content, or null when it is not there.</summary>
    public static string? Read(string folder, string file)
    {
        var path = Path.Combine(folder, file);
        return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
    }
}
