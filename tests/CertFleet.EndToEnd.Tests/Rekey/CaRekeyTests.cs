using System.Text.Json;
using CertFleet.Testing;
using Xunit.Abstractions;

namespace CertFleet.EndToEnd.Tests.Rekey;

/// <summary>
/// Issue 16 end to end: `certfleet renew --all --rekey-ca` on the loopback fleet (3 masters with real etcd, 2 workers,
/// coordinator and agents as processes) replaces the cluster CA and the front-proxy CA in three phases (trust, issue,
/// retire) while a client keeps writing to etcd with master-1's files as they are at each moment; and the refusals.
/// </summary>
[Collection(LoopbackFleetCollection.Name)]
public sealed class CaRekeyTests(ITestOutputHelper output)
{
    private static readonly TimeSpan RolloutLimit = TimeSpan.FromMinutes(8);

    [Fact]
    public async Task RenewAllRekeyCa_Wait_RotatesEveryCaWithNoFailedEtcdWrite()
    {
        await using var fleet = await LoopbackFleet.StartAsync();
        try
        {
            await using var probe = EtcdWriteProbe.Start(fleet);
            var rekey = fleet.Cli("renew", "--all", "--rekey-ca", "--wait");
            await probe.StopAsync();
            output.WriteLine($"etcd write probe through the re-key: {probe.Summary()}");

            Assert.True(rekey.ExitCode == 0, $"`certfleet renew --all --rekey-ca --wait` exited {rekey.ExitCode}:\n{rekey.Combined}");
            probe.AssertEveryWriteServed("`certfleet renew --all --rekey-ca --wait`");
            RekeyEndState.AssertCompleted(fleet);

            var status = fleet.Cli("status", "-o", "json");
            Assert.True(status.ExitCode == 0, $"`certfleet status -o json` after the re-key: {status.Combined}");
            var id = RolloutWatch.StartedId(rekey);
            var show = fleet.Cli("rollout", "show", id);
            Assert.True(show.ExitCode == 0, $"`certfleet rollout show {id}` after the re-key: {show.Combined}");
            Assert.Contains("completed", show.StandardOutput, StringComparison.Ordinal);
        }
        catch (Exception) when (DumpLogs(fleet))
        {
            throw;
        }
    }

    [Fact]
    public async Task RekeyCa_KilledInEachPhase_StillCompletes()
    {
        await using var fleet = await LoopbackFleet.StartAsync();
        var watch = new RolloutWatch(fleet);
        try
        {
            await using var probe = EtcdWriteProbe.Start(fleet);
            var start = fleet.Cli("renew", "--all", "--rekey-ca");
            Assert.True(start.ExitCode == 0, $"`certfleet renew --all --rekey-ca` exited {start.ExitCode}:\n{start.Combined}");
            var id = RolloutWatch.StartedId(start);
            watch.Add($"re-key rollout {id} started");

            var kills = new PhaseKills(fleet, watch);
            await watch.UntilCompletedAsync(id, RolloutLimit, maxResumes: 8, kills.OnShowAsync);
            await probe.StopAsync();
            output.WriteLine($"etcd write probe through the killed re-key: {probe.Summary()}\n{watch.Story}");

            Assert.True(kills.Remaining.Count == 0, $"the re-key completed before a step of kind {string.Join(", ", kills.Remaining)} was seen "
                + $"succeeding while it ran, so not every phase had its kill:\n{watch.Story}");
            probe.AssertEveryWriteServed($"the re-key with kills in each phase\n{watch.Story}");
            RekeyEndState.AssertCompleted(fleet);
        }
        catch (Exception) when (DumpLogs(fleet, watch))
        {
            throw;
        }
    }

    [Fact]
    public async Task RekeyCa_Refusals()
    {
        await using var fleet = await LoopbackFleet.StartAsync();
        var watch = new RolloutWatch(fleet);
        try
        {
            // the fixture's CA keys are EC P-256 (128-bit strength); RSA 2048 is 112
            var weaker = fleet.Cli("renew", "--all", "--rekey-ca", "--key-type", "rsa:2048");
            Assert.True(weaker.ExitCode != 0, $"a re-key to a weaker key was not refused:\n{weaker.Combined}");
            // "weaker" said in words, not only inside the option's name
            Assert.True(weaker.Combined.Contains("--allow-weaker", StringComparison.Ordinal)
                && weaker.Combined.Replace("--allow-weaker", "", StringComparison.Ordinal).Contains("weaker", StringComparison.Ordinal),
                $"the refusal of a weaker key should say it is weaker and name --allow-weaker; it said:\n{weaker.Combined}");
            AssertNothingChanged(fleet);

            var renew = fleet.Cli("renew", "--all");
            Assert.True(renew.ExitCode == 0, renew.Combined);
            var unfinished = RolloutWatch.StartedId(renew);
            var rekey = fleet.Cli("renew", "--all", "--rekey-ca");
            Assert.True(rekey.ExitCode != 0, $"a re-key was started while rollout {unfinished} ran:\n{rekey.Combined}");
            Assert.True(rekey.Combined.Contains(unfinished, StringComparison.Ordinal),
                $"the refusal should name the unfinished rollout {unfinished}; it said:\n{rekey.Combined}");

            // the refusal left the running rollout alone, and no CA was replaced
            await watch.UntilCompletedAsync(unfinished, RolloutLimit, maxResumes: 0);
            AssertCaUnchanged(fleet);
        }
        catch (Exception) when (DumpLogs(fleet, watch))
        {
            throw;
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

    private static void AssertCaUnchanged(LoopbackFleet fleet)
    {
        foreach (var name in RekeyedAuthority.Names)
        {
            var file = $"{RekeyedAuthority.Pki}/{name}.crt";
            Assert.True(File.ReadAllBytes(fleet.Original("master-1") + file).AsSpan().SequenceEqual(File.ReadAllBytes(fleet.NodeRoot("master-1") + file)),
                $"master-1:{file} is no longer the original {name} certificate");
        }
    }

    private static bool DumpLogs(LoopbackFleet fleet, RolloutWatch? watch = null)
    {
        Console.Error.WriteLine($"{watch?.Story}\n{fleet.LogTails(60)}");
        return false;
    }
}
