using System.Text.Json;
using CertFleet.Testing;

namespace CertFleet.EndToEnd.Tests;

/// <summary>
/// The trust issue's "done when": a worker holding an admin certificate and key copied from a master runs through
/// a full `certfleet renew --all --wait` (separate coordinator and agent processes) without that certificate
/// being renewed, while its own kubelet certificate is; the refusal is in the output and in `certfleet audit`.
/// </summary>
[Collection(LoopbackFleetCollection.Name)]
public sealed class StolenCertificateTests
{
    private const string Pki = "/etc/kubernetes/pki";

    [Fact]
    public async Task RenewAll_WorkerHoldsStolenAdminCertificate_AdminLeftAsIsKubeletRenewedRefusalAudited()
    {
        await using var fleet = await LoopbackFleet.StartAsync();
        try
        {
            var worker = fleet.NodeRoot("worker-1") + Pki;
            File.Copy(Path.Combine(fleet.NodeRoot("master-1") + Pki, "admin.crt"), Path.Combine(worker, "admin.crt"));
            File.Copy(Path.Combine(fleet.NodeRoot("master-1") + Pki, "admin.key"), Path.Combine(worker, "admin.key"));
            var stolen = File.ReadAllBytes(Path.Combine(worker, "admin.crt"));
            var kubeletSerial = Openssl.Serial(Path.Combine(worker, "worker-1.crt"));

            var renew = fleet.Cli("renew", "--all", "--wait");

            Assert.True(renew.ExitCode == 0, renew.Combined + fleet.Logs());
            Assert.Contains("completed", renew.StandardOutput, StringComparison.Ordinal);
            Assert.Contains($"worker-1: {Pki}/admin.crt (CN=kubernetes-admin,O=system:masters): O=system:masters", renew.StandardOutput, StringComparison.Ordinal);
            Assert.Equal(stolen, File.ReadAllBytes(Path.Combine(worker, "admin.crt")));
            Assert.NotEqual(kubeletSerial, Openssl.Serial(Path.Combine(worker, "worker-1.crt")));
            Assert.Equal(0, Openssl.Verify(Path.Combine(worker, "ca.crt"), Path.Combine(worker, "worker-1.crt")).ExitCode);

            var audit = fleet.Cli("audit", "--node", "worker-1", "-o", "json");
            Assert.True(audit.ExitCode == 0, audit.Combined);
            var events = JsonDocument.Parse(audit.StandardOutput).RootElement.GetProperty("events").EnumerateArray().ToList();
            Assert.Contains(events, e => e.GetProperty("kind").GetString() == "refused" && e.GetProperty("path").GetString() == $"{Pki}/admin.crt"
                && e.GetProperty("reason").GetString()!.Contains("worker-1 is a worker", StringComparison.Ordinal));
            Assert.Contains(events, e => e.GetProperty("kind").GetString() == "issued" && e.GetProperty("path").GetString() == $"{Pki}/worker-1.crt");
            Assert.DoesNotContain(events, e => e.GetProperty("kind").GetString() == "issued" && e.GetProperty("subject").GetString()!.Contains("kubernetes-admin", StringComparison.Ordinal));
        }
        catch (Exception) when (DumpLogs(fleet))
        {
            throw;
        }
    }

    private static bool DumpLogs(LoopbackFleet fleet)
    {
        Console.Error.WriteLine(fleet.Logs());
        return false;
    }
}
