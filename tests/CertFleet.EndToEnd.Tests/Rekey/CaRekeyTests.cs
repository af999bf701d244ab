using CertFleet.Testing;
using Xunit.Abstractions;

namespace CertFleet.EndToEnd.Tests.Rekey;

/// <summary>
/// Issue 16 end to end: `certfleet renew --all --rekey-ca` on the loopback fleet (3 masters with real etcd, 2 workers,
/// coordinator and agents as processes) replaces the cluster CA and the front-proxy CA in three phases (trust, issue,
/// retire) while a client keeps writing to etcd with master-1's files as they are at each moment. Its refusals are
/// checked on FleetRenewalTests' fleet (<see cref="RekeyRefusals"/>).
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

    private static bool DumpLogs(LoopbackFleet fleet, RolloutWatch? watch = null)
    {
        Console.Error.WriteLine($"{watch?.Story}\n{fleet.LogTails(60)}");
        return false;
    }
}
