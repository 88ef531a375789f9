using System.Collections.Concurrent;
using System.Globalization;
using System.Text.RegularExpressions;

namespace CouponAspire.Tests.Infrastructure;

/// <summary>
/// What the services of one test's system logged (their own categories, information and up), each line under the name
/// of the service that wrote it: how a test sees group changes, retries and redeliveries in every consumer, in this
/// process or in a process of its own.
/// </summary>
public sealed partial class ServiceLog
{
    private readonly ConcurrentQueue<(string Service, string Line)> _lines = new();

    /// <summary>Where the log stands now, to read only what comes after.</summary>
    public int Mark => _lines.Count;

    public void Add(string service, string line) => _lines.Enqueue((service, line));

    public IEnumerable<string> Lines(string? service = null, int since = 0) =>
        _lines.Skip(since).Where(l => service is null || l.Service == service).Select(l => l.Line);

    /// <summary>Partitions assigned, revoked or lost (<paramref name="change"/>) in rebalances since the mark, in any consumer.</summary>
    public int PartitionChanges(string change, int since = 0) =>
        ConsumerAssignment.Changes(Lines(since: since)).Where(c => c.How == change).Sum(c => c.Partitions.Length);

    /// <summary>Redelivered requests the consumers answered with their stored outcome since the mark.</summary>
    public int Replayed(int since = 0) =>
        Lines(since: since).Select(l => ReplayedCount().Match(l)).Where(m => m.Success).Sum(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));

    /// <summary>Batches a consumer (or, without <paramref name="service"/>, any) decided and committed since the mark.</summary>
    public int Batches(string? service = null, int since = 0) => Lines(service, since).Count(l => ReplayedCount().IsMatch(l));

    /// <summary>Batches the consumers had to read again after a transient failure since the mark.</summary>
    public int Retries(int since = 0) => Lines(since: since).Count(l => l.Contains("failed on a transient error", StringComparison.Ordinal));

    /// <summary>The partitions a consumer holds now.</summary>
    public HashSet<int> Assignment(string service) => ConsumerAssignment.Replay(Lines(service));

    [GeneratedRegex(@"issued, ([0-9]+) replayed, from partition")]
    private static partial Regex ReplayedCount();
}
