using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;

namespace CouponAspire.Soak;

/// <summary>
/// The GC heap of each .NET process of the system, read as <c>dotnet-counters</c> reads it: an EventPipe session per
/// process on the runtime's counters (<c>System.Runtime</c>, <c>gc-heap-size</c>), reported every few seconds. A
/// process that exits ends its session; a new one gets its own at the next <see cref="Watch"/>.
/// </summary>
internal sealed class RuntimeCounters(TimeSpan interval) : IDisposable
{
    private readonly ConcurrentDictionary<int, Session> _sessions = new();

    /// <summary>Opens a session on every process not watched yet.</summary>
    public void Watch(IEnumerable<SystemProcess> processes)
    {
        foreach (var process in processes)
        {
            if (process.Service == "dashboard" || _sessions.ContainsKey(process.Pid))
            {
                continue;
            }

            try
            {
                var client = new DiagnosticsClient(process.Pid);
                var provider = new EventPipeProvider(
                    "System.Runtime",
                    EventLevel.Informational,
                    (long)EventKeywords.None,
                    new Dictionary<string, string> { ["EventCounterIntervalSec"] = interval.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture) });
                var pipe = client.StartEventPipeSession([provider], requestRundown: false);
                var session = new Session(pipe);
                _sessions[process.Pid] = session;
                session.Start();
            }
            catch (Exception e) when (e is ServerNotAvailableException or UnsupportedCommandException or IOException or TimeoutException)
            {
                // Not a .NET process that answers (yet): tried again next time.
            }
        }
    }

    /// <summary>The GC heap in bytes at the last report, or null when none came yet.</summary>
    public long? GcHeap(int pid) => _sessions.TryGetValue(pid, out var session) ? session.GcHeap : null;

    public void Dispose()
    {
        foreach (var session in _sessions.Values)
        {
            session.Dispose();
        }
    }

    private sealed class Session(EventPipeSession pipe) : IDisposable
    {
        private long _gcHeap = -1;

        public long? GcHeap => Volatile.Read(ref _gcHeap) is var value and >= 0 ? value : null;

        public void Start() => _ = Task.Run(() =>
        {
            try
            {
                using var source = new EventPipeEventSource(pipe.EventStream);
                source.Dynamic.All += data =>
                {
                    if (data.EventName != "EventCounters" || data.PayloadValue(0) is not IDictionary<string, object> wrapper
                        || wrapper.TryGetValue("Payload", out var inner) is false || inner is not IDictionary<string, object> payload
                        || !payload.TryGetValue("Name", out var name) || !Equals(name, "gc-heap-size"))
                    {
                        return;
                    }

                    // Megabytes, as the counter reports it.
                    var value = payload.TryGetValue("Mean", out var mean) ? mean : payload.TryGetValue("Increment", out var increment) ? increment : 0.0;
                    var megabytes = Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture);
                    Volatile.Write(ref _gcHeap, (long)(megabytes * 1024 * 1024));
                };
                source.Process();
            }
            catch (Exception)
            {
                // The process went away mid-stream; its last figure stands.
            }
        });

        public void Dispose()
        {
            try
            {
                pipe.Stop();
            }
            catch (Exception)
            {
                // Already gone with its process.
            }

            pipe.Dispose();
        }
    }
}
