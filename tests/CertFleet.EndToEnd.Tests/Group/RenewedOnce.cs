using System.Globalization;
using System.Text.Json;
using CertFleet.Testing;

namespace CertFleet.EndToEnd.Tests.Group;

/// <summary>
/// What a rollout that changed coordinators mid-way must still have done: each certificate renewed once (one `issued`
/// record per old certificate), each install done once on its node, each unit restarted once (twice for a restart
/// under way at the failover: the agent repeats a restart sent again, by design, as its gate must see the present),
/// every leaf on disk renewed by it and chaining, etcd healthy.
/// </summary>
internal static class RenewedOnce
{
    private static readonly string[] Nodes = [.. LoopbackFleet.Masters, .. LoopbackFleet.Workers];

    /// <param name="resent">restarts running when the active coordinator went away ("node unit"): the next one sends them again</param>
    public static async Task AssertAsync(LoopbackFleet fleet, GroupDatabase database, string rollout, DateTimeOffset startedAt, IReadOnlySet<string> resent)
    {
        var id = GroupDatabase.Text(rollout);
        var twice = await database.RowsAsync($"SELECT node, path, previous_serial, count(*) FROM audit WHERE kind = 'issued' AND rollout_id = {id} GROUP BY 1, 2, 3 HAVING count(*) > 1;");
        Assert.True(twice.Count == 0, $"certificates issued more than once in rollout {rollout}:\n{Lines(twice)}");

        var installs = await database.RowsAsync($"SELECT node, state FROM rollout_steps WHERE rollout_id = {id} AND kind = 'install' ORDER BY node;");
        Assert.True(installs.Count > 0 && installs.All(s => s[1] == "succeeded"), $"install steps of {rollout}:\n{Lines(installs)}");
        var installed = await database.RowsAsync($"SELECT node, count(*) FROM audit WHERE kind = 'installed' AND rollout_id = {id} GROUP BY node ORDER BY node;");
        Assert.True(installs.Select(s => $"{s[0]} 1").SequenceEqual(installed.Select(r => $"{r[0]} {r[1]}")),
            $"each install step should have one `installed` record; steps:\n{Lines(installs)}\nrecords per node:\n{Lines(installed)}");

        AssertEachRestartRanOnce(fleet, await database.RowsAsync($"SELECT node, unit, state FROM rollout_steps WHERE rollout_id = {id} AND kind = 'restart';"), startedAt, resent);
        var issued = (await database.RowsAsync($"SELECT serial FROM audit WHERE kind = 'issued' AND rollout_id = {id};")).Select(r => Serial(r[0])).ToHashSet(StringComparer.Ordinal);
        AssertEveryLeafRenewed(fleet, issued);
        foreach (var master in LoopbackFleet.Masters)
        {
            var health = ProcessRunner.Run("bash", [SharedFixtures.EtcdMember, "health", fleet.NodeRoot(master)], timeout: TimeSpan.FromSeconds(30));
            Assert.True(health.ExitCode == 0, $"etcd on {master} is not healthy: {health.Combined}");
        }
    }

    /// <summary>The unit script logs each restart it makes: once per restart step, a second time only for one sent again.</summary>
    private static void AssertEachRestartRanOnce(LoopbackFleet fleet, List<string[]> steps, DateTimeOffset startedAt, IReadOnlySet<string> resent)
    {
        Assert.True(steps.All(s => s[2] == "succeeded"), $"restart steps:\n{Lines(steps)}");
        var since = startedAt.ToUnixTimeMilliseconds() / 1000.0;
        var ran = File.ReadLines(fleet.RestartLog).Select(line => line.Split(' '))
            .Where(f => f.Length == 4 && f[3] == "start" && double.Parse(f[0], CultureInfo.InvariantCulture) >= since)
            .Select(f => $"{f[1]} {f[2]}").Order(StringComparer.Ordinal).ToList();
        var planned = steps.Select(s => GroupDatabase.RestartName(s[0], s[1])).Order(StringComparer.Ordinal).ToList();
        var wrong = planned.Union(ran).Where(restart => ran.Count(r => r == restart) is var times
            && !(times == 1 && planned.Contains(restart)) && !(times == 2 && resent.Contains(restart))).ToList();
        Assert.True(wrong.Count == 0, $"restarts made not once per step (twice allowed only for one under way at the failover: {string.Join(", ", resent)}): "
            + $"{string.Join(", ", wrong)}\nrestarts planned:\n{string.Join("\n", planned)}\nrestarts the nodes made:\n{string.Join("\n", ran)}");
    }

    private static void AssertEveryLeafRenewed(LoopbackFleet fleet, HashSet<string> issued)
    {
        foreach (var node in Nodes)
        {
            var before = CheckExpiration(fleet, fleet.Original(node));
            var after = CheckExpiration(fleet, fleet.NodeRoot(node));
            foreach (var old in before.Where(c => !c.GetProperty("isCa").GetBoolean()))
            {
                var path = old.GetProperty("path").GetString()!;
                var user = old.GetProperty("kubeconfigUser").GetString();
                var where = user is null ? $"{node}:{path}" : $"{node}:{path} (user {user})";
                var now = after.Single(c => c.GetProperty("path").GetString() == path && c.GetProperty("kubeconfigUser").GetString() == user);
                Assert.True(now.GetProperty("residualSeconds").GetInt64() > 300L * 86400, $"{where} has {now.GetProperty("residualSeconds")} s left: not renewed");
                Assert.True(now.GetProperty("keyMatches").ValueKind == JsonValueKind.True, $"{where} does not match its key");
                var serial = Serial(now.GetProperty("serial").GetString());
                Assert.True(serial != Serial(old.GetProperty("serial").GetString()) && issued.Contains(serial),
                    $"{where} has serial {serial}, which the rollout did not issue");
                if (user is null)
                {
                    var ca = path.Contains("front-proxy", StringComparison.Ordinal) ? "front-proxy-ca.crt" : "ca.crt";
                    var verify = Openssl.Verify(Path.Combine(fleet.NodeRoot(node), "etc/kubernetes/pki", ca), Path.Combine(fleet.NodeRoot(node), path.TrimStart('/')));
                    Assert.True(verify.ExitCode == 0, $"openssl verify {where}: {verify.Combined}");
                }
            }
        }
    }

    private static List<JsonElement> CheckExpiration(LoopbackFleet fleet, string root)
    {
        var result = fleet.Cli("check-expiration", "--root", root, "-o", "json");
        Assert.True(result.ExitCode == 0, $"check-expiration --root {root}: {result.Combined}");
        return [.. JsonDocument.Parse(result.StandardOutput).RootElement.EnumerateArray().Select(e => e.Clone())];
    }

    private static string Serial(string? hex) => (hex ?? "").TrimStart('0').ToUpperInvariant();

    private static string Lines(List<string[]> rows) => string.Join("\n", rows.Select(r => string.Join(" | ", r)));
}
