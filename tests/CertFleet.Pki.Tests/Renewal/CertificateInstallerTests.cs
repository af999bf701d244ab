using CertFleet.Pki.Certificates;
using CertFleet.Pki.Files;
using CertFleet.Pki.Inventory;
using CertFleet.Pki.Renewal;
using CertFleet.Testing;

namespace CertFleet.Pki.Tests.Renewal;

public sealed class CertificateInstallerTests(EcClusterPkiFixture pki) : IClassFixture<EcClusterPkiFixture>
{
    [Fact]
    public void Install_ReplacementWithAnotherPublicKey_IsRefusedAndNothingIsWritten()
    {
        var root = pki.CopyNode("worker-1");
        var before = FolderSnapshot.Take(root);
        using var inventory = new NodeScanner(TimeProvider.System).Scan(new NodeRoot(root));
        var kubelet = inventory.Certificates.Single(e => e.Path == "/etc/kubernetes/pki/worker-1.crt").Certificate;
        var proxy = inventory.Certificates.First(e => e.Path == "/etc/kubernetes/pki/kube-proxy.crt").Certificate;

        var error = Assert.Throws<PkiException>(() => new CertificateInstaller(TimeProvider.System).Install(
            inventory, new Dictionary<string, CertificateInfo> { [kubelet.Sha256Fingerprint] = proxy }));

        Assert.Contains("different public key", error.Message, StringComparison.Ordinal);
        Assert.Contains("/etc/kubernetes/pki/worker-1.crt", error.Message, StringComparison.Ordinal);
        Assert.Empty(before.Differences(FolderSnapshot.Take(root)));
    }

    [Fact]
    public void Install_NewCertificatesFromAMaster_ReplacesEveryCopyOnTheWorkerAndNamesTheUnitsToRestart()
    {
        // The agent's case: a worker receives certificates signed elsewhere (here: renewed on a copy of master-1).
        var master = pki.CopyNode("master-1");
        var renewed = RenewalRun.Renew(master, authorities: false);
        var proxy = renewed.Renewed.Single(r => r.Plan.Current.Subject == "CN=system:kube-proxy");
        var worker = pki.CopyNode("worker-1");
        using var inventory = new NodeScanner(TimeProvider.System).Scan(new NodeRoot(worker));

        var result = new CertificateInstaller(TimeProvider.System).Install(inventory,
            new Dictionary<string, CertificateInfo> { [proxy.Plan.Current.Sha256Fingerprint] = proxy.Certificate });

        Assert.Equal(["/etc/kubernetes/kube-proxy.kubeconfig", "/etc/kubernetes/pki/kube-proxy.crt"], result.ChangedFiles);
        Assert.Equal(["kube-proxy.service"], result.UnitsToRestart);
        var verify = Openssl.Verify(Path.Combine(worker, "etc/kubernetes/pki/ca.crt"), Path.Combine(worker, "etc/kubernetes/pki/kube-proxy.crt"));
        Assert.True(verify.ExitCode == 0, verify.Combined);
        Assert.Equal(proxy.Certificate.SerialHex, Openssl.Serial(Path.Combine(worker, "etc/kubernetes/pki/kube-proxy.crt")));
    }
}
