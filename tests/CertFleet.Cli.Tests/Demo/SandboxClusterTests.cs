using CertFleet.Cli.Demo;
using CertFleet.Pki.Files;
using CertFleet.Pki.Inventory;
using CertFleet.Pki.Renewal;
using CertFleet.Testing;

namespace CertFleet.Cli.Tests.Demo;

public sealed class SandboxClusterTests : IDisposable
{
    private readonly string _directory = ScratchDirectory.Create("sandbox");

    public SandboxClusterTests() =>
        new SandboxCluster(new SandboxLayout(3, 3, "127.0.42", "127.0.43"), TimeProvider.System).Write(_directory);

    public void Dispose() => ScratchDirectory.Delete(_directory);

    [Fact]
    public void Write_ThreeMastersThreeWorkers_LaysOutNodesLikeTheSharedFixtureAndOpensslVerifiesThem()
    {
        Assert.Equal(["master-1", "master-2", "master-3", "worker-1", "worker-2", "worker-3"],
            Directory.GetDirectories(_directory).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        var pki = Path.Combine(_directory, "master-2/etc/kubernetes/pki");
        foreach (var leaf in new[] { "apiserver", "etcd-server", "etcd-peer", "admin", "master-2", "kube-proxy" })
        {
            var verify = Openssl.Verify(Path.Combine(pki, "ca.crt"), Path.Combine(pki, leaf + ".crt"));
            Assert.True(verify.ExitCode == 0, $"{leaf}: {verify.Combined}");
        }
        foreach (var key in Directory.GetFiles(pki, "*.key"))
        {
            var certificate = Path.ChangeExtension(key, ".crt");
            Assert.Equal(Openssl.Checked("pkey", "-in", key, "-pubout"), Openssl.PublicKey(certificate));
        }
        Assert.Contains("IP Address:127.0.42.13", Openssl.Extension(Path.Combine(pki, "etcd-server.crt"), "subjectAltName"), StringComparison.Ordinal);
        Assert.Equal("subject=CN=kube-apiserver-kubelet-client,O=system:masters", Openssl.Subject(Path.Combine(pki, "apiserver-kubelet-client.crt")));
    }

    [Fact]
    public void Write_Master_IsScannedWithEveryCertificatePairedAndUsedAndRenewable()
    {
        using var inventory = new NodeScanner(TimeProvider.System).Scan(new NodeRoot(Path.Combine(_directory, "master-1")));
        var plan = new RenewalPlanner(TimeProvider.System).Plan(inventory, new RenewalOptions());

        Assert.Empty(inventory.Errors);
        Assert.Equal(11, plan.Leaves.Count);
        Assert.Equal(["etcd.service", "kube-apiserver.service", "kube-controller-manager.service", "kube-scheduler.service", "kubelet.service", "kube-proxy.service"],
            plan.UnitsToRestart);
        Assert.All(inventory.Certificates, e => Assert.True(e.KeyMatches != false, e.DisplayName));
        Assert.All(plan.Leaves, l => Assert.InRange((l.Current.NotAfter - DateTimeOffset.UtcNow).TotalDays, 9, 10));
    }
}
