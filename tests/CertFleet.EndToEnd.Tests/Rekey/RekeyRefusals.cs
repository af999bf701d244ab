using System.Diagnostics;
using System.Text.Json;
using CertFleet.Testing;

namespace CertFleet.EndToEnd.Tests.Rekey;

/// <summary>
/// The re-key's refusals, checked on a fleet another test starts anyway (FleetRenewalTests: a fleet's start and a
/// whole rollout are a couple of minutes of the test run's 2 cores): a weaker new key is refused before anything is
/// recorded or changed, and a re-key is refused while another rollout runs, naming it and leaving it alone.
/// </summary>
internal static class RekeyRefusals
{
    /// <summary>The fixture's CA keys are EC P-256 (128-bit strength); RSA 2048 is 112: refused, and nothing changed.</summary>
    public static void AssertWeakerKeyRefused(LoopbackFleet fleet)
    {
        var weaker = fleet.Cli("renew", "--all", "--rekey-ca", "--key-type", "rsa:2048");
        Assert.True(weaker.ExitCode != 0, $"a re-key to a weaker key was not refused:\n{weaker.Combined}");
        // "weaker" said in words, not only inside the option's name
        Assert.True(weaker.Combined.Contains("--allow-weaker", StringComparison.Ordinal)
            && weaker.Combined.Replace("--allow-weaker", "", StringComparison.Ordinal).Contains("weaker", StringComparison.Ordinal),
            $"the refusal of a weaker key should say it is weaker and name --allow-weaker; it said:\n{weaker.Combined}");
        AssertNothingChanged(fleet);
    }

    /// <summary>While a rollout runs, `renew --all --rekey-ca` is refused and names it; the rollout's id.</summary>
    public static async Task<string> AssertRefusedWhileARolloutRunsAsync(LoopbackFleet fleet)
    {
        var unfinished = await RunningRolloutAsync(fleet);
        var rekey = fleet.Cli("renew", "--all", "--rekey-ca");
        Assert.True(rekey.ExitCode != 0, $"a re-key was started while rollout {unfinished} ran:\n{rekey.Combined}");
        Assert.True(rekey.Combined.Contains(unfinished, StringComparison.Ordinal),
            $"the refusal should name the unfinished rollout {unfinished}; it said:\n{rekey.Combined}");
        return unfinished;
    }

    /// <summary>No cluster CA certificate replaced on master-1.</summary>
    public static void AssertCaUnchanged(LoopbackFleet fleet)
    {
        foreach (var name in RekeyedAuthority.Names)
        {
            var file = $"{RekeyedAuthority.Pki}/{name}.crt";
            Assert.True(File.ReadAllBytes(fleet.Original("master-1") + file).AsSpan().SequenceEqual(File.ReadAllBytes(fleet.NodeRoot("master-1") + file)),
                $"master-1:{file} is no longer the original {name} certificate");
        }
    }

    /// <summary>No rollout recorded, and every node's /etc as it was before anything ran.</summary>
    private static void AssertNothingChanged(LoopbackFleet fleet)
    {
        AssertCaUnchanged(fleet);
        var list = fleet.Cli("rollout", "list", "-o", "json");
        Assert.True(list.ExitCode == 0, list.Combined);
        Assert.Equal(0, JsonDocument.Parse(list.StandardOutput).RootElement.GetProperty("rollouts").GetArrayLength());
        foreach (var node in LoopbackFleet.Masters.Concat(LoopbackFleet.Workers))
        {
            var changed = FolderSnapshot.Take(Path.Combine(fleet.NodeRoot(node), "etc"))
                .Differences(FolderSnapshot.Take(Path.Combine(fleet.Original(node), "etc")));
            Assert.True(changed.Count == 0, $"a refused re-key changed {node}'s /etc: {string.Join(", ", changed)}");
        }
    }

    /// <summary>The id of the rollout `certfleet rollout list` shows running, once it does (bounded: a minute).</summary>
    private static async Task<string> RunningRolloutAsync(LoopbackFleet fleet)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var list = fleet.Cli("rollout", "list", "-o", "json");
            if (list.ExitCode == 0
                && JsonDocument.Parse(list.StandardOutput).RootElement.GetProperty("rollouts").EnumerateArray()
                    .FirstOrDefault(r => r.GetProperty("state").GetString() == "running") is { ValueKind: JsonValueKind.Object } running)
            {
                return running.GetProperty("id").GetString()!;
            }
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(1), $"no rollout was seen running within a minute: {list.Combined}");
            await Task.Delay(TimeSpan.FromMilliseconds(300));
        }
    }
}
