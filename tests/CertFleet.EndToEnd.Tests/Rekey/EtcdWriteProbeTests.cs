using Xunit.Abstractions;

namespace CertFleet.EndToEnd.Tests.Rekey;

/// <summary>
/// The probe the re-key tests rely on, held against what is known to work: today's `certfleet renew --all --wait`
/// restarts each etcd member in turn, and the probe must see no failed write through it. Were it to see one here, a
/// failed write in a re-key would say nothing about the re-key.
/// </summary>
[Collection(LoopbackFleetCollection.Name)]
public sealed class EtcdWriteProbeTests(ITestOutputHelper output)
{
    [Fact]
    public async Task RenewAll_RollingEtcdRestart_ProbeSeesNoFailedWrite()
    {
        await using var fleet = await LoopbackFleet.StartAsync();
        try
        {
            await using var probe = EtcdWriteProbe.Start(fleet);
            var renew = fleet.Cli("renew", "--all", "--wait");
            await probe.StopAsync();
            output.WriteLine($"etcd write probe through `renew --all --wait`: {probe.Summary()}");

            Assert.True(renew.ExitCode == 0, renew.Combined);
            Assert.Equal(3, File.ReadLines(fleet.RestartLog).Count(l => l.EndsWith(" etcd end", StringComparison.Ordinal)));
            probe.AssertEveryWriteServed("`certfleet renew --all --wait`");
        }
        catch (Exception) when (DumpLogs(fleet))
        {
            throw;
        }
    }

    private static bool DumpLogs(LoopbackFleet fleet)
    {
        Console.Error.WriteLine(fleet.LogTails(40));
        return false;
    }
}
