using System.Diagnostics;
using System.Runtime.InteropServices;

namespace CouponAspire.LocalInfrastructure;

/// <summary>
/// A service (the API or a consumer) running as a process of its own, configured through environment variables as a
/// deployment would be, its output forwarded line by line. It can be stopped the way an orchestrator does (SIGTERM,
/// then wait) or killed outright (SIGKILL, what a crash or an OOM kill looks like).
/// </summary>
public sealed partial class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;

    private ServiceProcess(string name, Process process)
    {
        Name = name;
        _process = process;
    }

    public string Name { get; }
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    /// <summary>Waits for a service that does its work and stops (the migration worker).</summary>
    public Task WaitForExitAsync(CancellationToken cancellationToken = default) => _process.WaitForExitAsync(cancellationToken);

    /// <param name="assemblyPath">The service's built <c>.dll</c>, run with <c>dotnet</c>.</param>
    /// <param name="output">Receives every line the service writes, prefixed with its name.</param>
    public static ServiceProcess Start(string name, string assemblyPath, IReadOnlyDictionary<string, string?> environment, Action<string>? output = null)
    {
        var start = new ProcessStartInfo("dotnet", [assemblyPath])
        {
            WorkingDirectory = Path.GetDirectoryName(assemblyPath)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in environment)
        {
            // Configuration keys become environment variable names ("a:b" is "a__b").
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {assemblyPath}.");
        process.OutputDataReceived += (_, e) => Forward(e.Data);
        process.ErrorDataReceived += (_, e) => Forward(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new ServiceProcess(name, process);

        void Forward(string? line)
        {
            if (line is not null)
            {
                output?.Invoke($"[{name}] {line}");
            }
        }
    }

    /// <summary>Waits until <paramref name="url"/> answers 200 (a health endpoint), or the process exits.</summary>
    public async Task WaitUntilHealthyAsync(Uri url, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited with code {_process.ExitCode} before it was healthy.");
            }

            try
            {
                if ((await http.GetAsync(url, cancellationToken)).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }

            await Task.Delay(200, cancellationToken);
        }

        throw new TimeoutException($"{Name} was not healthy at {url} within {timeout}.");
    }

    /// <summary>SIGTERM, as an orchestrator stops a container: the service drains, commits and leaves its group.</summary>
    public async Task StopAsync(TimeSpan? timeout = null)
    {
        if (_process.HasExited)
        {
            return;
        }

        if (OperatingSystem.IsWindows())
        {
            _process.Kill();
        }
        else
        {
            _ = Kill(_process.Id, 15 /* SIGTERM */);
        }

        try
        {
            await _process.WaitForExitAsync().WaitAsync(timeout ?? TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
            KillHard();
        }
    }

    /// <summary>SIGKILL: the process dies mid-whatever, with no chance to commit, close or leave its group.</summary>
    public void KillHard()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
    }

    /// <summary>
    /// SIGSTOP: the process stands still where it is, holding its partitions, connections and transactions, as one in a
    /// long pause or on a stalled machine would. Unix only.
    /// </summary>
    public void Freeze()
    {
        if (Kill(_process.Id, 19 /* SIGSTOP */) != 0)
        {
            throw new InvalidOperationException($"{Name} could not be stopped (errno {Marshal.GetLastPInvokeError()}).");
        }
    }

    /// <summary>SIGCONT: a frozen process goes on where it stood.</summary>
    public void Thaw()
    {
        if (Kill(_process.Id, 18 /* SIGCONT */) != 0)
        {
            throw new InvalidOperationException($"{Name} could not be continued (errno {Marshal.GetLastPInvokeError()}).");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process.Dispose();
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
