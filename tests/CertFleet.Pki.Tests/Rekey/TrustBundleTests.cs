using CertFleet.Pki.Certificates;
using CertFleet.Pki.Kubeconfigs;
using CertFleet.Pki.Rekey;
using CertFleet.Pki.Signing;
using CertFleet.Pki.Tests.Certificates;
using CertFleet.Testing;

namespace CertFleet.Pki.Tests.Rekey;

public sealed class TrustBundleTests(SmallEcPkiFixture pki) : IClassFixture<SmallEcPkiFixture>, IDisposable
{
    private readonly OpensslScratch _scratch = new();

    public void Dispose() => _scratch.Dispose();

    private string PkiFile(string name) => Path.Combine(pki.NodeRoot("master-1"), "etc/kubernetes/pki", name);

    private CertificateInfo OldCa => OpensslScratch.LoadCertificate(PkiFile("ca.crt"));

    /// <summary>A new CA and the apiserver's certificate re-issued by it with its own key.</summary>
    private (NewAuthority Ca, string Leaf) NewCaWithLeaf()
    {
        var old = new CertificateAuthority(OldCa, OpensslScratch.LoadKey(PkiFile("ca.key")));
        var created = NewAuthority.Create(old.Certificate, new NewAuthorityRequest(TimeSpan.FromDays(3650)), TimeProvider.System);
        var previous = OpensslScratch.LoadCertificate(PkiFile("apiserver.crt"));
        using var key = OpensslScratch.LoadKey(PkiFile("apiserver.key"));
        var request = RenewalRequest.Read(CertificateRequestBuilder.FromExistingCertificate(previous, key), IssuedCertificate.Find(previous, [old])!);
        var leaf = new CertificateIssuer(TimeProvider.System).RenewUnder(request, created.Authority, TimeSpan.FromDays(365));
        return (created, _scratch.SaveCertificate("apiserver-new.crt", leaf));
    }

    [Fact]
    public void Trust_FixtureCaFile_BundleVerifiesOldAndNewLeavesWithTheOldCaFirst()
    {
        var (created, newLeaf) = NewCaWithLeaf();
        using var _ = created;

        var bundle = TrustBundle.Trust(File.ReadAllText(PkiFile("ca.crt")), OldCa, created.Certificate, "ca.crt");
        var file = _scratch.WriteText("bundle.crt", bundle);

        Assert.Equal(0, Openssl.Verify(file, PkiFile("apiserver.crt")).ExitCode);
        Assert.Equal(0, Openssl.Verify(file, newLeaf).ExitCode);
        Assert.Equal(Openssl.PublicKey(PkiFile("ca.crt")), Openssl.PublicKey(file)); // a first-certificate reader sees the old CA
        Assert.StartsWith(File.ReadAllText(PkiFile("ca.crt")), bundle, StringComparison.Ordinal);
        Assert.Equal(bundle, TrustBundle.Trust(bundle, OldCa, created.Certificate, "ca.crt")); // a resumed phase adds nothing
    }

    [Fact]
    public void Retire_TrustedBundle_LeavesOnlyTheNewCaAndOtherCertificates()
    {
        var (created, newLeaf) = NewCaWithLeaf();
        using var _ = created;
        var frontProxy = File.ReadAllText(PkiFile("front-proxy-ca.crt"));
        var text = "# cluster CAs\n" + File.ReadAllText(PkiFile("ca.crt")) + frontProxy;

        var trusted = TrustBundle.Trust(text, OldCa, created.Certificate, "bundle.crt");
        var retired = TrustBundle.Retire(trusted, OldCa, "bundle.crt");
        var file = _scratch.WriteText("retired.crt", retired);

        Assert.Equal("# cluster CAs\n" + created.Certificate.ToPem() + frontProxy, retired);
        Assert.Equal(0, Openssl.Verify(file, newLeaf).ExitCode);
        Assert.NotEqual(0, Openssl.Verify(file, PkiFile("apiserver.crt")).ExitCode);
        Assert.Equal(0, Openssl.Verify(file, PkiFile("front-proxy-client.crt")).ExitCode);
        Assert.Equal(retired, TrustBundle.Retire(retired, OldCa, "bundle.crt"));
    }

    [Fact]
    public void Retire_FileHoldingOnlyTheOldCa_IsRefused()
    {
        var refused = Assert.Throws<PkiException>(() => TrustBundle.Retire(File.ReadAllText(PkiFile("ca.crt")), OldCa, "ca.crt"));

        Assert.Contains("no certificate", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Trust_FileOfAnotherCa_IsRefused()
    {
        var (created, _) = NewCaWithLeaf();
        using var ca = created;

        var refused = Assert.Throws<PkiException>(() =>
            TrustBundle.Trust(File.ReadAllText(PkiFile("front-proxy-ca.crt")), OldCa, created.Certificate, "front-proxy-ca.crt"));

        Assert.Contains("not one of its trust anchors", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TrustKubeconfig_AdminConf_CertificateAuthorityDataBundlesOldAndNewAndNothingElseChanges()
    {
        var (created, newLeaf) = NewCaWithLeaf();
        using var _ = created;
        var path = Path.Combine(pki.NodeRoot("master-1"), "etc/kubernetes/admin.conf");
        var text = File.ReadAllText(path);

        var trusted = TrustBundle.TrustKubeconfig(text, "kubernetes", OldCa, created.Certificate, path);
        var bundle = _scratch.WriteBytes("kubeconfig-ca.crt", CaData(trusted, path));
        var retired = TrustBundle.RetireKubeconfig(trusted, "kubernetes", OldCa, path);
        var afterRetire = _scratch.WriteBytes("kubeconfig-retired.crt", CaData(retired, path));

        Assert.Equal(0, Openssl.Verify(bundle, PkiFile("apiserver.crt")).ExitCode);
        Assert.Equal(0, Openssl.Verify(bundle, newLeaf).ExitCode);
        Assert.Equal(0, Openssl.Verify(afterRetire, newLeaf).ExitCode);
        Assert.NotEqual(0, Openssl.Verify(afterRetire, PkiFile("apiserver.crt")).ExitCode);
        Assert.Equal(Lines(text).Where(l => !l.Contains("certificate-authority-data", StringComparison.Ordinal)),
            Lines(trusted).Where(l => !l.Contains("certificate-authority-data", StringComparison.Ordinal)));
        Assert.Equal(trusted, TrustBundle.TrustKubeconfig(trusted, "kubernetes", OldCa, created.Certificate, path));
    }

    [Fact]
    public void TrustKubeconfig_ClusterNamingACaFile_IsRefusedNamingTheFile()
    {
        var (created, _) = NewCaWithLeaf();
        using var ca = created;
        var path = Path.Combine(pki.NodeRoot("master-1"), "etc/kubernetes/kubelet.kubeconfig");

        var refused = Assert.Throws<PkiException>(() =>
            TrustBundle.TrustKubeconfig(File.ReadAllText(path), "kubernetes", OldCa, created.Certificate, path));

        Assert.Contains("/etc/kubernetes/pki/ca.crt", refused.Message, StringComparison.Ordinal);
    }

    private static byte[] CaData(string kubeconfigText, string path)
    {
        var cluster = Kubeconfig.Parse(kubeconfigText, path).Clusters.Single();
        return Kubeconfig.DecodeData(cluster.CertificateAuthorityData!, path);
    }

    private static string[] Lines(string text) => text.Split('\n');
}
