using System.Diagnostics;
using System.Globalization;

namespace CouponAspire.LocalInfrastructure;

/// <summary>
/// The PostgreSQL server binaries installed on this machine, and how to run them: PostgreSQL refuses to run as root,
/// so under root every server command runs as the <c>postgres</c> user that the distribution's packages create.
/// </summary>
public sealed class PostgresInstallation
{
    /// <summary>Overrides where the server binaries (<c>initdb</c>, <c>postgres</c>, <c>pg_ctl</c>) are looked for.</summary>
    public const string BinDirectoryVariable = "COUPONASPIRE_POSTGRES_BIN";

    private PostgresInstallation(string binDirectory, string? runAs)
    {
        BinDirectory = binDirectory;
        RunAs = runAs;
    }

    public string BinDirectory { get; }

    /// <summary>The user the server runs as when this process is root; null when it runs as the current user.</summary>
    public string? RunAs { get; }

    /// <summary>The binaries on <c>PATH</c>, in <see cref="BinDirectoryVariable"/> or in the usual install folders; the newest first.</summary>
    public static PostgresInstallation Find()
    {
        var candidates = new List<string>();
        if (Environment.GetEnvironmentVariable(BinDirectoryVariable) is { Length: > 0 } configured)
        {
            candidates.Add(configured);
        }

        candidates.AddRange((Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries));
        foreach (var root in new[] { "/usr/lib/postgresql", "/usr/pgsql", "/opt/homebrew/opt", "/usr/local/opt" })
        {
            if (Directory.Exists(root))
            {
                // Debian (/usr/lib/postgresql/15/bin), Homebrew (postgresql@16/bin): the newest first.
                candidates.AddRange(Directory.GetDirectories(root)
                    .Where(d => root.StartsWith("/usr/lib", StringComparison.Ordinal) || Path.GetFileName(d).StartsWith("postgresql", StringComparison.Ordinal))
                    .OrderByDescending(d => d, StringComparer.Ordinal)
                    .Select(d => Path.Combine(d, "bin")));
            }
        }

        candidates.Add("/usr/local/pgsql/bin");
        var bin = candidates.FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "postgres")))
            ?? throw new InvalidOperationException(
                $"No PostgreSQL server binaries (initdb, postgres) found on PATH or in the usual places. Install PostgreSQL (e.g. apt-get install postgresql, brew install postgresql@16), or set {BinDirectoryVariable} to their folder.");
        return new PostgresInstallation(bin, Environment.UserName == "root" ? "postgres" : null);
    }

    /// <summary>
    /// The server settings of a throwaway server on 127.0.0.1. <paramref name="durable"/> keeps PostgreSQL's default
    /// durability (fsync, synchronous commit), as on a real server; without it the server trades crash safety for speed,
    /// which is what test databases want. Without <paramref name="port"/> the server reads it from <c>PGPORT</c>.
    /// </summary>
    public static IReadOnlyDictionary<string, string> ServerSettings(string dataDirectory, bool durable, int? port = null)
    {
        var settings = new Dictionary<string, string>
        {
            ["listen_addresses"] = "127.0.0.1",
            ["unix_socket_directories"] = dataDirectory,
            ["max_connections"] = "300",
            // A throwaway server starts with empty tables that a sale fills by thousands of rows a second. Statistics
            // gathered within a second of a table's growth, rather than a minute, let prepared statements' plans (made
            // while the tables were empty, when reading them whole is cheapest) be made again for their real size.
            ["autovacuum_naptime"] = "1s",
            // Once a table has grown past a few batches its plans stand: gathered again each time it doubles rather than
            // each tenth (with a one-second nap that was a new worker reading a growing table every second, a sixth of
            // the machine under a sale).
            ["autovacuum_analyze_scale_factor"] = "1",
            ["autovacuum_vacuum_insert_scale_factor"] = "1",
        };
        if (port is { } p)
        {
            settings["port"] = p.ToString(CultureInfo.InvariantCulture);
        }

        if (!durable)
        {
            settings["fsync"] = "off";
            settings["synchronous_commit"] = "off";
            settings["full_page_writes"] = "off";
        }

        return settings;
    }

    /// <summary>Creates <paramref name="dataDirectory"/> (owned by the server's user) and a cluster in it: superuser <c>postgres</c>, trust authentication.</summary>
    public async Task InitializeAsync(string dataDirectory, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(dataDirectory);
        if (RunAs is not null)
        {
            await RunAsync("chown", [RunAs, dataDirectory], null, cancellationToken);
        }

        await RunAsync(Binary("initdb"), ["-D", dataDirectory, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"], RunAs, cancellationToken);
    }

    /// <summary>
    /// The command that runs the server in the foreground: <c>postgres</c> itself, or under root <c>setpriv</c>, which
    /// execs it as <see cref="RunAs"/> (so that whoever started the command is the server's parent, and signals reach it).
    /// </summary>
    public (string File, string[] Arguments) ServerCommand(string dataDirectory, IReadOnlyDictionary<string, string> settings)
    {
        string[] server = [Binary("postgres"), "-D", dataDirectory, .. settings.SelectMany(s => new[] { "-c", $"{s.Key}={s.Value}" })];
        return RunAs is null
            ? (server[0], server[1..])
            : ("setpriv", [$"--reuid={RunAs}", $"--regid={RunAs}", "--init-groups", "--", .. server]);
    }

    public string Binary(string name) => Path.Combine(BinDirectory, name);

    /// <summary>Runs a command to its end (as <paramref name="runAs"/> when given) and throws with its output if it fails.</summary>
    public static async Task RunAsync(string file, string[] arguments, string? runAs, CancellationToken cancellationToken)
    {
        var start = runAs is null
            ? new ProcessStartInfo(file, arguments)
            : new ProcessStartInfo("runuser", new[] { "-u", runAs, "--", file }.Concat(arguments));
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {file}.");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited with {process.ExitCode}:{Environment.NewLine}{await output}{await error}");
        }
    }
}
