using System.Diagnostics;
using Npgsql;

namespace CouponAspire.LocalInfrastructure;

/// <summary>
/// A PostgreSQL server of its own, started from the locally installed binaries in a temporary folder on a free
/// port of 127.0.0.1 and deleted again on dispose. PostgreSQL refuses to run as root, so under root it runs as the
/// <c>postgres</c> user that the distribution's packages create. A watchdog stops it if this process dies without
/// disposing it.
/// </summary>
public sealed class TemporaryPostgresServer : IAsyncDisposable
{
    /// <summary>Overrides where the server binaries (<c>initdb</c>, <c>postgres</c>, <c>pg_ctl</c>) are looked for.</summary>
    public const string BinDirectoryVariable = "COUPONASPIRE_POSTGRES_BIN";

    private readonly string _binDirectory;
    private readonly string _dataDirectory;
    private readonly string? _runAs;
    private readonly string _command;
    private readonly System.Text.StringBuilder _log = new();
    private Process? _process;

    private TemporaryPostgresServer(string binDirectory, string dataDirectory, string? runAs, string command, int port)
    {
        _binDirectory = binDirectory;
        _dataDirectory = dataDirectory;
        _runAs = runAs;
        _command = command;
        Port = port;
    }

    public int Port { get; }

    /// <summary>A connection string to <paramref name="database"/> as the superuser <c>postgres</c> (trust authentication).</summary>
    public string ConnectionString(string database = "postgres") =>
        new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = Port, Username = "postgres", Database = database }.ConnectionString;

    /// <param name="durable">
    /// Keep PostgreSQL's default durability (fsync, synchronous commit) as on a real server: for benchmarks.
    /// Without it the server trades crash safety for speed, which is what throwaway test databases want.
    /// </param>
    public static async Task<TemporaryPostgresServer> StartNewAsync(bool durable = false, CancellationToken cancellationToken = default)
    {
        var bin = FindBinDirectory();
        var runAs = Environment.UserName == "root" ? "postgres" : null;
        var data = Directory.CreateTempSubdirectory("couponaspire-pg-").FullName;
        try
        {
            if (runAs is not null)
            {
                await RunAsync("chown", [runAs, data], null, cancellationToken);
            }

            await RunAsync(Path.Combine(bin, "initdb"), ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"], runAs, cancellationToken);

            var port = LocalPorts.Free();
            var options = new Dictionary<string, string>
            {
                ["listen_addresses"] = "127.0.0.1",
                ["port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["unix_socket_directories"] = data,
                ["max_connections"] = "300",
            };
            if (!durable)
            {
                options["fsync"] = "off";
                options["synchronous_commit"] = "off";
                options["full_page_writes"] = "off";
            }

            var postgres = string.Join(' ', new[] { Quote(Path.Combine(bin, "postgres")), "-D", Quote(data) }
                .Concat(options.Select(o => $"-c {Quote($"{o.Key}={o.Value}")}")));
            var command = runAs is null ? postgres : $"runuser -u {runAs} -- {postgres}";

            var server = new TemporaryPostgresServer(bin, data, runAs, command, port);
            await server.StartAsync(cancellationToken);
            return server;
        }
        catch
        {
            TryDelete(data);
            throw;
        }
    }

    public async Task CreateDatabaseAsync(string name, CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(ConnectionString());
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Stops the server: a fast shutdown, or an immediate one (connections cut, no checkpoint — what a crash looks
    /// like to clients). <see cref="StartAsync(CancellationToken)"/> brings it back on the same port with the same data.
    /// </summary>
    public async Task StopAsync(bool immediate = false, CancellationToken cancellationToken = default)
    {
        await RunAsync(Path.Combine(_binDirectory, "pg_ctl"), ["-D", _dataDirectory, "stop", "-m", immediate ? "immediate" : "fast", "-w"], _runAs, cancellationToken);
        if (_process is not null)
        {
            await _process.WaitForExitAsync(cancellationToken);
            _process.Dispose();
            _process = null;
        }
    }

    /// <summary>Starts the (stopped) server again and waits until it accepts connections.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_process is not null)
        {
            throw new InvalidOperationException("The server is running.");
        }

        // The watchdog: if the process that started the server goes away, stop the server (fast shutdown) and delete its
        // data. "Goes away" is "this shell is no longer its child": a bare `kill -0 <pid>` would be fooled by the pid
        // being reused. The signal goes to the postmaster itself (its pid is the first line of postmaster.pid): $pg may
        // be runuser, and a background job of a shell ignores SIGINT. A stop through StopAsync ends the loop too, but
        // with the starter alive, so the data stays for StartAsync.
        var data = Quote(_dataDirectory);
        var watchdog = string.Join("; ",
            $"{_command} & pg=$!",
            "starter() { p=$(ps -o ppid= -p $$ 2>/dev/null) || { kill -0 $PPID 2>/dev/null; return; }; [ \"$(echo $p)\" = \"$PPID\" ]; }",
            "while starter && kill -0 $pg 2>/dev/null; do sleep 1; done",
            $"starter || {{ kill -INT $(head -n 1 {data}/postmaster.pid 2>/dev/null) 2>/dev/null; wait $pg; rm -rf {data}; }}",
            "wait $pg");
        _process = Process.Start(new ProcessStartInfo("sh", ["-c", watchdog])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("Could not start PostgreSQL.");
        _process.ErrorDataReceived += (_, e) => AppendLog(e.Data);
        _process.OutputDataReceived += (_, e) => AppendLog(e.Data);
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
        await WaitUntilAcceptingConnectionsAsync(_process, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_process is not null)
            {
                await StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
            }
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException)
        {
            _process?.Kill(entireProcessTree: true);
            _process?.Dispose();
        }
        finally
        {
            TryDelete(_dataDirectory);
        }
    }

    private void AppendLog(string? line)
    {
        lock (_log)
        {
            _log.AppendLine(line);
        }
    }

    private async Task WaitUntilAcceptingConnectionsAsync(Process process, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(ConnectionString() + ";Pooling=false;Timeout=2");
                await connection.OpenAsync(cancellationToken);
                return;
            }
            catch (NpgsqlException) when (!process.HasExited && deadline.Elapsed < TimeSpan.FromSeconds(60))
            {
                await Task.Delay(100, cancellationToken);
            }
            catch (NpgsqlException e)
            {
                string log;
                lock (_log)
                {
                    log = _log.ToString();
                }

                throw new InvalidOperationException($"PostgreSQL did not start in {_dataDirectory}:{Environment.NewLine}{log}", e);
            }
        }
    }

    private static string FindBinDirectory()
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
        return candidates.FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "postgres")))
            ?? throw new InvalidOperationException(
                $"No PostgreSQL server binaries (initdb, postgres) found on PATH or in the usual places. Install PostgreSQL (e.g. apt-get install postgresql, brew install postgresql@16), or set {BinDirectoryVariable} to their folder, or give a connection string.");
    }

    private static async Task RunAsync(string file, string[] arguments, string? runAs, CancellationToken cancellationToken)
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

    private static string Quote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
