using System.Globalization;
using System.Text.RegularExpressions;

namespace CouponAspire.Tests.Infrastructure;

/// <summary>The partitions a consumer holds, read from what it logs when the group changes.</summary>
public static partial class ConsumerAssignment
{
    /// <summary>The group changes in a consumer's log: partitions <c>Assigned</c>, <c>revoked</c> or <c>lost</c>, in order.</summary>
    public static IEnumerable<(string How, int[] Partitions)> Changes(IEnumerable<string> logs) =>
        logs.Select(line => Change().Match(line)).Where(change => change.Success).Select(change => (
            change.Groups["how"].Value,
            change.Groups["partitions"].Value.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray()));

    /// <summary>Replays a consumer's log of assignments and revocations (cooperative rebalancing: incremental ones).</summary>
    public static HashSet<int> Replay(IEnumerable<string> logs)
    {
        var partitions = new HashSet<int>();
        foreach (var (how, changed) in Changes(logs))
        {
            if (how == "Assigned")
            {
                partitions.UnionWith(changed);
            }
            else
            {
                partitions.ExceptWith(changed);
            }
        }

        return partitions;
    }

    /// <summary>Whether the members' assignments share all <paramref name="partitions"/> between them, each holding some.</summary>
    public static bool Shared(IReadOnlyCollection<HashSet<int>> assignments, int partitions) =>
        assignments.All(held => held.Count > 0)
        && assignments.Sum(held => held.Count) == partitions
        && assignments.SelectMany(held => held).Distinct().Count() == partitions;

    [GeneratedRegex(@"(?<how>Assigned) partition\(s\) (?<partitions>[0-9,]*)|Partition\(s\) (?<partitions>[0-9,]*) (?<how>revoked|lost)")]
    private static partial Regex Change();
}
