using System.Text;
using CertFleet.Pki.Certificates;
using CertFleet.Pki.Files;
using CertFleet.Pki.Inventory;
using CertFleet.Pki.Kubeconfigs;
using CertFleet.Pki.Rekey;
using CertFleet.Pki.Signing;
using CertFleet.Pki.Tests.Certificates;
using CertFleet.Testing;

namespace CertFleet.Pki.Tests.Rekey;

/// <summary>Trust bundles written onto copies of the fixture's nodes, checked with openssl against the files written.</summary>
public sealed class TrustInstallerTests(EcClusterPkiFixture pki) : IClassFixture<EcClusterPkiFixture>, IDisposable
{
    internal const string CaFile = "etc/kubernetes/pki/ca.crt";
    internal const string Backups = "var/lib/certfleet";
    private static readonly NewAuthorityRequest TenYears = new(TimeSpan.FromDays(3650));
    private readonly OpensslScratch _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public void Trust_FixtureWorker_BundleAcceptsOldAndNewLeavesAndKubeconfigsHoldBoth()
    {
        var worker = pki.CopyNode("worker-1");
        using var newCa = NewCa();
        var oldLeaf = Path.Combine(worker, "etc/kubernetes/pki/worker-1.crt");
        var newLeaf = RenewUnderNewCa(worker, "worker-1", newCa);
        Assert.NotEqual(0, Openssl.Verify(Path.Combine(worker, CaFile), newLeaf).ExitCode);

        var result = Trust(worker, newCa.Certificate);

        AssertVerifies(Path.Combine(worker, CaFile), oldLeaf);
        AssertVerifies(Path.Combine(worker, CaFile), newLeaf);
        // kubelet.kubeconfig names ca.crt (certificate-authority); kube-proxy.kubeconfig embeds it (certificate-authority-data)
        Assert.Equal(["/etc/kubernetes/kube-proxy.kubeconfig", "/" + CaFile], result.ChangedFiles);
        Assert.Equal(["kubelet.service", "kube-proxy.service"], result.UnitsToRestart);
        var proxyBundle = _scratch.WriteText("kube-proxy.ca.crt", CertificateAuthorityData(Path.Combine(worker, "etc/kubernetes/kube-proxy.kubeconfig")));
        AssertVerifies(proxyBundle, oldLeaf);
        AssertVerifies(proxyBundle, newLeaf);
        Assert.True(BackupSet.Exists(new NodeRoot(worker), result.BackupDirectory!));
    }

    [Fact]
    public void Trust_Twice_SecondWritesNothing()
    {
        var worker = pki.CopyNode("worker-1");
        using var newCa = NewCa();
        Trust(worker, newCa.Certificate);
        var after = FolderSnapshot.Take(worker, excludeUnder: Backups);

        var again = Trust(worker, newCa.Certificate);

        Assert.Empty(again.ChangedFiles);
        Assert.Null(again.BackupDirectory);
        Assert.Empty(after.Differences(FolderSnapshot.Take(worker, excludeUnder: Backups)));
    }

    [Fact]
    public void Retire_AfterTrust_OldLeafRefusedNewLeafAcceptedEverywhere()
    {
        var worker = pki.CopyNode("worker-1");
        using var newCa = NewCa();
        var oldLeaf = Path.Combine(worker, "etc/kubernetes/pki/worker-1.crt");
        var newLeaf = RenewUnderNewCa(worker, "worker-1", newCa);
        Trust(worker, newCa.Certificate);

        using var inventory = Scan(worker);
        var oldCa = OldCa();
        var result = new TrustInstaller(TimeProvider.System).Retire(inventory, TrustAnchors.Find(inventory, oldCa), oldCa);

        Assert.Equal(2, result.ChangedFiles.Count);
        Assert.NotEqual(0, Openssl.Verify(Path.Combine(worker, CaFile), oldLeaf).ExitCode);
        AssertVerifies(Path.Combine(worker, CaFile), newLeaf);
        var proxy = _scratch.WriteText("kube-proxy.ca.crt", CertificateAuthorityData(Path.Combine(worker, "etc/kubernetes/kube-proxy.kubeconfig")));
        Assert.NotEqual(0, Openssl.Verify(proxy, oldLeaf).ExitCode);
        AssertVerifies(proxy, newLeaf);
    }

    [Fact]
    public void Trust_RollBackFromTheBackup_EveryFileAsBefore()
    {
        var worker = pki.CopyNode("worker-1");
        var before = FolderSnapshot.Take(worker, excludeUnder: Backups);
        using var newCa = NewCa();
        var result = Trust(worker, newCa.Certificate);
        Assert.NotEmpty(before.Differences(FolderSnapshot.Take(worker, excludeUnder: Backups)));

        BackupSet.Open(new NodeRoot(worker), result.BackupDirectory!).RestoreAll();

        Assert.Empty(before.Differences(FolderSnapshot.Take(worker, excludeUnder: Backups)));
    }

    [Fact]
    public void Trust_FixtureMasterCaFileAlsoNamedForSigning_RefusedAndNothingWritten()
    {
        var master = pki.CopyNode("master-1");
        var before = FolderSnapshot.Take(master);
        using var newCa = NewCa();

        var error = Assert.Throws<PkiException>(() => Trust(master, newCa.Certificate));

        Assert.Contains("/etc/kubernetes/pki/ca.crt: both trusted and named as a signing certificate", error.Message, StringComparison.Ordinal);
        Assert.Empty(before.Differences(FolderSnapshot.Take(master)));
    }

    [Fact]
    public void Trust_FileChangedAfterTheScan_RefusedAndNothingWritten()
    {
        var worker = pki.CopyNode("worker-1");
        using var newCa = NewCa();
        using var inventory = Scan(worker);
        var oldCa = OldCa();
        var found = TrustAnchors.Find(inventory, oldCa);
        File.AppendAllText(Path.Combine(worker, "etc/kubernetes/kube-proxy.kubeconfig"), "# edited\n");
        var before = FolderSnapshot.Take(worker);

        var error = Assert.Throws<PkiException>(() => new TrustInstaller(TimeProvider.System).Trust(inventory, found, oldCa, newCa.Certificate));

        Assert.Contains("changed while certfleet was reading the node", error.Message, StringComparison.Ordinal);
        Assert.Empty(before.Differences(FolderSnapshot.Take(worker)));
    }

    internal static CertFleet.Pki.Renewal.InstallResult Trust(string root, CertificateInfo newCa)
    {
        using var inventory = Scan(root);
        var oldCa = inventory.Certificates.First(e => e.Path == "/" + CaFile).Certificate;
        return new TrustInstaller(TimeProvider.System).Trust(inventory, TrustAnchors.Find(inventory, oldCa), oldCa, newCa);
    }

    internal static NodeInventory Scan(string root) => new NodeScanner(TimeProvider.System).Scan(new NodeRoot(root));

    private CertificateInfo OldCa() => OpensslScratch.LoadCertificate(Path.Combine(pki.NodeRoot("master-1"), CaFile));

    private NewAuthority NewCa() => NewAuthority.Create(OldCa(), TenYears, TimeProvider.System);

    /// <summary>The node's leaf re-issued with its own key by the new CA, saved in the scratch folder.</summary>
    private string RenewUnderNewCa(string root, string name, NewAuthority newCa)
    {
        var master = Path.Combine(pki.NodeRoot("master-1"), "etc/kubernetes/pki");
        var oldAuthority = new CertificateAuthority(OldCa(), OpensslScratch.LoadKey(Path.Combine(master, "ca.key")));
        var previous = OpensslScratch.LoadCertificate(Path.Combine(root, $"etc/kubernetes/pki/{name}.crt"));
        using var key = OpensslScratch.LoadKey(Path.Combine(root, $"etc/kubernetes/pki/{name}.key"));
        var request = RenewalRequest.Read(CertificateRequestBuilder.FromExistingCertificate(previous, key),
            IssuedCertificate.Find(previous, [oldAuthority])!);
        return _scratch.SaveCertificate($"{name}-under-new-ca.crt",
            new CertificateIssuer(TimeProvider.System).RenewUnder(request, newCa.Authority, TimeSpan.FromDays(365)));
    }

    internal static string CertificateAuthorityData(string kubeconfigFile)
    {
        var kubeconfig = Kubeconfig.Parse(File.ReadAllText(kubeconfigFile), kubeconfigFile);
        var data = kubeconfig.Clusters.Single().CertificateAuthorityData!;
        return Encoding.UTF8.GetString(Kubeconfig.DecodeData(data, kubeconfigFile));
    }

    private static void AssertVerifies(string caFile, string leaf)
    {
        var result = Openssl.Verify(caFile, leaf);
        Assert.True(result.ExitCode == 0, $"{leaf} against {caFile}: {result.Combined}");
    }
}
