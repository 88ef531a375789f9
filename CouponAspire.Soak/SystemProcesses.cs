namespace CouponAspire.Soak;

/// <summary>A running process of the system, found by its command line.</summary>
/// <param name="Service">Which service: <c>api</c>, <c>consumer</c>, <c>kafka</c> (the mock cluster) or <c>dashboard</c>.</param>
internal sealed record SystemProcess(int Pid, string Service, DateTimeOffset StartedAt)
{
    /// <summary>A name that stays the process's own across restarts: the service and its process id.</summary>
    public string Label => $"{Service} {Pid}";
}

/// <summary>The system's processes, read from <c>/proc</c> (Linux): what the AppHost started, whatever their names in the dashboard.</summary>
internal static class SystemProcesses
{
    private static readonly (string Marker, string Service)[] Services =
    [
        ("CouponAspire.Api", "api"),
        ("CouponAspire.Consumer", "consumer"),
        ("CouponAspire.LocalKafka", "kafka"),
        ("Aspire.Dashboard", "dashboard"),
    ];

    public static List<SystemProcess> Find()
    {
        var found = new List<SystemProcess>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid))
            {
                continue;
            }

            try
            {
                var executable = File.ReadAllText(Path.Combine(directory, "cmdline")).Split('\0')[0];
                var name = Path.GetFileName(executable);
                foreach (var (marker, service) in Services)
                {
                    if (name == marker || name == marker + ".dll" || (name == "dotnet" && File.ReadAllText(Path.Combine(directory, "cmdline")).Contains(marker + ".dll", StringComparison.Ordinal)))
                    {
                        found.Add(new SystemProcess(pid, service, new DateTimeOffset(Directory.GetCreationTimeUtc(directory), TimeSpan.Zero)));
                        break;
                    }
                }
            }
            catch (IOException)
            {
                // Gone while read.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return found;
    }

    /// <summary>The resident set (the working set) in bytes, or null once the process is gone.</summary>
    public static long? WorkingSet(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), System.Globalization.CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
        }

        return null;
    }
}
