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
    private readonly PostgresInstallation _installation;
    private readonly string _dataDirectory;
    private readonly string _command;
    private readonly System.Text.StringBuilder _log = new();
    private Process? _process;

    private TemporaryPostgresServer(PostgresInstallation installation, string dataDirectory, string command, int port)
    {
        _installation = installation;
        _dataDirectory = dataDirectory;
        _command = command;
        Port = port;
    }

    public int Port { get; }

    /// <summary>A connection string to <paramref name="database"/> as the superuser <c>postgres</c> (trust authentication).</summary>
    public string ConnectionString(string database = "postgres") =>
        new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = Port, Username = "postgres", Database = database }.ConnectionString;

    /// <param name="durable">
    /// Keep PostgreSQL's default durability (fsync, synchronous commit) as on a real server: for benchmarks, and for
    /// a test that crashes the server and starts it again. Without it the server trades crash safety for speed (an
    /// immediate stop loses the last commits), which is what throwaway test databases want.
    /// </param>
    public static async Task<TemporaryPostgresServer> StartNewAsync(bool durable = false, CancellationToken cancellationToken = default)
    {
        var installation = PostgresInstallation.Find();
        var data = Directory.CreateTempSubdirectory("couponaspire-pg-").FullName;
        try
        {
            await installation.InitializeAsync(data, cancellationToken);
            var port = LocalPorts.Free();
            var (file, arguments) = installation.ServerCommand(data, PostgresInstallation.ServerSettings(data, durable, port));
            var server = new TemporaryPostgresServer(installation, data, string.Join(' ', arguments.Prepend(file).Select(Quote)), port);
            await server.StartAsync(cancellationToken);
            return server;
        }
        catch
        {
            TryDelete(data);
            throw;
        }
    }

    /// <summary>
    /// Stops the server: a fast shutdown, or an immediate one (connections cut, no checkpoint — what a crash looks
    /// like to clients). <see cref="StartAsync(CancellationToken)"/> brings it back on the same port with the same data.
    /// </summary>
    public async Task StopAsync(bool immediate = false, CancellationToken cancellationToken = default)
    {
        await PostgresInstallation.RunAsync(
            _installation.Binary("pg_ctl"), ["-D", _dataDirectory, "stop", "-m", immediate ? "immediate" : "fast", "-w"], _installation.RunAs, cancellationToken);
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
        // being reused. The signal goes to the pid the postmaster wrote itself (the first line of postmaster.pid). A stop
        // through StopAsync ends the loop too, but with the starter alive, so the data stays for StartAsync.
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
