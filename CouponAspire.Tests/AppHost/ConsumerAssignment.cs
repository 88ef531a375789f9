using System.Text.RegularExpressions;

namespace CouponAspire.Tests.AppHost;

/// <summary>The partitions a consumer replica holds, read from what it logs when the group changes.</summary>
public static partial class ConsumerAssignment
{
    /// <summary>Replays a replica's log of assignments and revocations (cooperative rebalancing: incremental ones).</summary>
    public static HashSet<int> Replay(IEnumerable<string> logs)
    {
        var partitions = new HashSet<int>();
        foreach (var line in logs)
        {
            if (Change().Match(line) is not { Success: true } change)
            {
                continue;
            }

            var changed = change.Groups["partitions"].Value.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse);
            if (change.Groups["how"].Value == "Assigned")
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

    [GeneratedRegex(@"(?<how>Assigned) partition\(s\) (?<partitions>[0-9,]*)|Partition\(s\) (?<partitions>[0-9,]*) (?<how>revoked|lost)")]
    private static partial Regex Change();
}
