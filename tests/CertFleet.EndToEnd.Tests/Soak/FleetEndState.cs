using System.Text.Json;
using System.Text.RegularExpressions;
using CertFleet.Testing;

namespace CertFleet.EndToEnd.Tests.Soak;

/// <summary>What must hold on the fleet after (and, for the invariant, between) the soak's rollouts.</summary>
internal static class FleetEndState
{
    private const string Backups = "/var/lib/certfleet/backups";
    private static readonly string[] Nodes = [.. LoopbackFleet.Masters, .. LoopbackFleet.Workers];

    /// <summary>DESIGN.md "Rolling renewal": every service has a matching, chaining, unexpired pair, on every node.</summary>
    public static void AssertInvariant(LoopbackFleet fleet, SoakStory story, string when)
    {
        foreach (var node in Nodes)
        {
            var verify = fleet.Cli("verify", "--local", "--root", fleet.NodeRoot(node), "--warn-within", "0");
            Assert.True(verify.ExitCode == 0, story.Failure($"{when}: `certfleet verify --local` on {node} exited {verify.ExitCode}:\n{verify.Combined}"));
        }
    }

    /// <summary>Every leaf renewed by the fleet (a serial the audit says was issued), valid for > 300 days, with its key, chaining.</summary>
    public static void AssertEveryLeafRenewed(LoopbackFleet fleet, SoakStory story, IReadOnlyList<JsonElement> audit)
    {
        var issued = audit.Where(e => e.GetProperty("kind").GetString() == "issued")
            .Select(e => Serial(e.GetProperty("serial").GetString())).ToHashSet(StringComparer.Ordinal);
        var checkedLeaves = 0;
        foreach (var node in Nodes)
        {
            var before = CheckExpiration(fleet, story, fleet.Original(node));
            var after = CheckExpiration(fleet, story, fleet.NodeRoot(node));
            foreach (var old in before.Where(c => !c.GetProperty("isCa").GetBoolean()))
            {
                var path = old.GetProperty("path").GetString()!;
                var user = old.GetProperty("kubeconfigUser").GetString();
                var where = user is null ? $"{node}:{path}" : $"{node}:{path} (user {user})";
                var now = after.SingleOrDefault(c => c.GetProperty("path").GetString() == path && c.GetProperty("kubeconfigUser").GetString() == user);
                Assert.True(now.ValueKind == JsonValueKind.Object, story.Failure($"{where} is gone from check-expiration"));
                Assert.True(now.GetProperty("residualSeconds").GetInt64() > 300L * 86400, story.Failure($"{where} has {now.GetProperty("residualSeconds")} s left: not renewed"));
                Assert.True(now.GetProperty("keyMatches").ValueKind == JsonValueKind.True, story.Failure($"{where} does not match its key"));
                var serial = Serial(now.GetProperty("serial").GetString());
                Assert.True(serial != Serial(old.GetProperty("serial").GetString()) && issued.Contains(serial),
                    story.Failure($"{where} has serial {serial}, which no `issued` audit record names"));
                checkedLeaves++;
                if (user is null)
                {
                    var file = Path.Combine(fleet.NodeRoot(node), path.TrimStart('/'));
                    var ca = path.Contains("front-proxy", StringComparison.Ordinal) ? "front-proxy-ca.crt" : "ca.crt";
                    var verify = Openssl.Verify(Path.Combine(fleet.NodeRoot(node), "etc/kubernetes/pki", ca), file);
                    Assert.True(verify.ExitCode == 0, story.Failure($"openssl verify {where}: {verify.Combined}"));
                }
            }
        }
        story.Add($"{checkedLeaves} leaf certificate(s) renewed by the fleet, matching their keys, valid > 300 days");
    }

    public static void AssertEtcdHealthy(LoopbackFleet fleet, SoakStory story)
    {
        foreach (var master in LoopbackFleet.Masters)
        {
            var health = ProcessRunner.Run("bash", [SharedFixtures.EtcdMember, "health", fleet.NodeRoot(master)], timeout: TimeSpan.FromSeconds(30));
            Assert.True(health.ExitCode == 0, story.Failure($"etcd on {master} is not healthy: {health.Combined}"));
        }
    }

    public static void AssertNoTemporaryFiles(LoopbackFleet fleet, SoakStory story)
    {
        var left = Nodes.SelectMany(node => Directory.EnumerateFiles(fleet.NodeRoot(node), "*.certfleet-tmp-*", SearchOption.AllDirectories)).ToList();
        Assert.True(left.Count == 0, story.Failure($"{left.Count} temporary file(s) left behind:\n{string.Join("\n", left)}"));
    }

    /// <summary>Every backup folder on a node is named by an install audit record of that node ("... backup in DIR").</summary>
    public static void AssertBackupsAudited(LoopbackFleet fleet, SoakStory story, IReadOnlyList<JsonElement> audit)
    {
        var unaccounted = new List<string>();
        var count = 0;
        foreach (var node in Nodes)
        {
            var folder = Path.Combine(fleet.NodeRoot(node), Backups.TrimStart('/'));
            var details = audit.Where(e => e.GetProperty("node").GetString() == node
                    && e.GetProperty("kind").GetString() is "installed" or "install-failed" or "rolled-back" or "rollback-failed")
                .Select(e => e.GetProperty("detail").GetString() ?? "").ToList();
            foreach (var backup in Directory.Exists(folder) ? Directory.GetDirectories(folder) : [])
            {
                count++;
                var onNode = $"{Backups}/{Path.GetFileName(backup)}";
                // 20261128T180000Z must not be taken for 20261128T180000Z-2
                var named = new Regex(Regex.Escape(onNode) + @"(?![\w-])", RegexOptions.CultureInvariant);
                if (!details.Any(named.IsMatch))
                {
                    unaccounted.Add($"{node}:{onNode} ({Directory.EnumerateFiles(backup, "*", SearchOption.AllDirectories).Count()} file(s))");
                }
            }
        }
        Assert.True(count > 0, story.Failure("no backup folder on any node: the installs took none"));
        Assert.True(unaccounted.Count == 0, story.Failure($"{unaccounted.Count} of {count} backup folder(s) are named in no install or rollback audit record:\n{string.Join("\n", unaccounted)}"));
        story.Add($"{count} backup folder(s) on the nodes, each named by an install or rollback audit record");
    }

    public static List<JsonElement> Audit(LoopbackFleet fleet, SoakStory story)
    {
        var audit = fleet.Cli("audit", "-o", "json");
        Assert.True(audit.ExitCode == 0, story.Failure($"`certfleet audit -o json` failed: {audit.Combined}"));
        return [.. JsonDocument.Parse(audit.StandardOutput).RootElement.GetProperty("events").EnumerateArray().Select(e => e.Clone())];
    }

    private static List<JsonElement> CheckExpiration(LoopbackFleet fleet, SoakStory story, string root)
    {
        var result = fleet.Cli("check-expiration", "--root", root, "-o", "json");
        Assert.True(result.ExitCode == 0, story.Failure($"check-expiration --root {root}: {result.Combined}"));
        return [.. JsonDocument.Parse(result.StandardOutput).RootElement.EnumerateArray().Select(e => e.Clone())];
    }

    /// <summary>Hex serials compared without leading zeros and case.</summary>
    private static string Serial(string? hex) => (hex ?? "").TrimStart('0').ToUpperInvariant();
}
