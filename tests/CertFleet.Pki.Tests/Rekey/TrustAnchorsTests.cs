using CertFleet.Pki.Files;
using CertFleet.Pki.Inventory;
using CertFleet.Pki.Rekey;
using CertFleet.Pki.Tests.Certificates;
using CertFleet.Testing;
using CertFleet.Testing.Guides;

namespace CertFleet.Pki.Tests.Rekey;

public sealed class TrustAnchorsTests(SmallEcPkiFixture pki, HardWayLayout hardWay) : IClassFixture<SmallEcPkiFixture>, IClassFixture<HardWayLayout>
{
    private const string Ca = "/etc/kubernetes/pki/ca.crt";

    private static NodeInventory Scan(string root) => new NodeScanner(TimeProvider.System).Scan(new NodeRoot(root));

    private static CertFleet.Pki.Certificates.CertificateInfo Authority(NodeInventory inventory, string path) =>
        inventory.Certificates.First(e => e.Path == path).Certificate;

    [Fact]
    public void Find_FixtureMaster_ClusterCaFileTrustedByEveryUnitAndSignedWithByTheControllerManager()
    {
        using var inventory = Scan(pki.NodeRoot("master-1"));

        var found = TrustAnchors.Find(inventory, Authority(inventory, Ca));

        var trusts = Assert.Single(found.Trusting, a => a.Path == Ca);
        Assert.Equal(["etcd.service", "kube-apiserver.service", "kube-controller-manager.service", "kube-scheduler.service", "kubelet.service"], trusts.Units);
        Assert.Contains("kube-apiserver.service: --client-ca-file", trusts.NamedBy);
        Assert.Contains("kube-apiserver.service: --etcd-cafile", trusts.NamedBy);
        Assert.Contains("etcd.service: ETCD_PEER_TRUSTED_CA_FILE", trusts.NamedBy);
        Assert.Contains("kube-controller-manager.service: --root-ca-file", trusts.NamedBy);
        var signs = Assert.Single(found.Signing);
        Assert.Equal(Ca, signs.Path);
        Assert.Equal("/etc/kubernetes/pki/ca.key", signs.KeyPath);
        Assert.Contains("kube-controller-manager.service: --cluster-signing-cert-file", signs.NamedBy);
        Assert.Equal([Ca], found.SignsAndTrusts);
        Assert.Equal(["/etc/kubernetes/admin.conf", "/etc/kubernetes/kube-proxy.kubeconfig"],
            found.Trusting.Where(a => a.KubeconfigCluster == "kubernetes").Select(a => a.Path));
        Assert.Equal(["kube-proxy.service"], found.Trusting.Single(a => a.Path == "/etc/kubernetes/kube-proxy.kubeconfig").Units);
        Assert.Empty(found.Problems);
    }

    [Fact]
    public void Find_FixtureMaster_LeavesAreWhatThisCaIssuedAndNothingOfTheFrontProxyCa()
    {
        using var inventory = Scan(pki.NodeRoot("master-1"));

        var found = TrustAnchors.Find(inventory, Authority(inventory, Ca));
        var frontProxy = TrustAnchors.Find(inventory, Authority(inventory, "/etc/kubernetes/pki/front-proxy-ca.crt"));

        var leaves = found.Leaves.Select(e => e.DisplayName).ToList();
        Assert.Contains("/etc/kubernetes/pki/apiserver.crt", leaves);
        Assert.Contains("/etc/kubernetes/pki/etcd-peer.crt", leaves);
        Assert.Contains("/etc/kubernetes/admin.conf (user kubernetes-admin)", leaves);
        Assert.DoesNotContain("/etc/kubernetes/pki/front-proxy-client.crt", leaves);
        Assert.DoesNotContain(found.Leaves, e => e.IsCa);
        Assert.Equal(["/etc/kubernetes/pki/front-proxy-client.crt"], frontProxy.Leaves.Select(e => e.Path));
        var requestHeader = Assert.Single(frontProxy.Trusting);
        Assert.Equal(["kube-apiserver.service: --requestheader-client-ca-file"], requestHeader.NamedBy);
    }

    [Fact]
    public void Find_FixtureWorker_TrustsOnlyAndNothingSigns()
    {
        using var inventory = Scan(pki.NodeRoot("worker-1"));

        var found = TrustAnchors.Find(inventory, Authority(inventory, Ca));

        Assert.Empty(found.Signing);
        Assert.Equal(["kubelet.service"], found.Trusting.Single(a => a.Path == Ca).Units);
        Assert.Contains(found.Trusting, a => a.Path == "/etc/kubernetes/kube-proxy.kubeconfig" && a.KubeconfigCluster == "kubernetes");
        Assert.Contains(found.Leaves, e => e.Path == "/etc/kubernetes/pki/worker-1.crt");
        Assert.Empty(found.Problems);
    }

    [Fact]
    public void Find_MissingTrustFileAndSigningCaWithoutKey_AreNamedAsProblems()
    {
        var root = pki.CopyNode("master-1");
        File.Delete(Path.Combine(root, "etc/kubernetes/pki/ca.key"));
        var dropIns = Directory.CreateDirectory(Path.Combine(root, "etc/systemd/system/kubelet.service.d")).FullName;
        File.WriteAllText(Path.Combine(dropIns, "10-oidc.conf"), "[Service]\nEnvironment=OIDC_CA_FILE=/etc/kubernetes/oidc/ca.crt\n");
        using var inventory = Scan(root);

        var found = TrustAnchors.Find(inventory, Authority(inventory, Ca));

        Assert.Contains(found.Problems, p => p.Path == "/etc/kubernetes/oidc/ca.crt" && p.Message.Contains("kubelet.service", StringComparison.Ordinal));
        var keyless = Assert.Single(found.Problems, p => p.Path == Ca);
        Assert.Contains("--cluster-signing-cert-file", keyless.Message, StringComparison.Ordinal);
        Assert.Contains("key was not found", keyless.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Find_HardWayWorker_KubeletClientCaFileOfItsComponentConfigIsATrustAnchor()
    {
        using var inventory = Scan(hardWay.NodeRoot("worker"));
        var ca = inventory.Certificates.First(e => e.Path == "/var/lib/kubelet/ca.crt").Certificate;

        var found = TrustAnchors.Find(inventory, ca);

        var kubelet = Assert.Single(found.Trusting, a => a.Path == "/var/lib/kubelet/ca.crt");
        Assert.Contains(kubelet.NamedBy, n => n.Contains("authentication.x509.clientCAFile", StringComparison.Ordinal));
        Assert.Contains("kubelet.service", kubelet.Units);
        Assert.NotEmpty(found.Leaves);
    }

    [Theory]
    [InlineData("--client-ca-file", TrustAnchorKind.Trusts)]
    [InlineData("ETCD_PEER_TRUSTED_CA_FILE", TrustAnchorKind.Trusts)]
    [InlineData("authentication.x509.clientCAFile", TrustAnchorKind.Trusts)]
    [InlineData("--kubelet-certificate-authority", TrustAnchorKind.Trusts)]
    [InlineData("--cacert", TrustAnchorKind.Trusts)]
    [InlineData("--cluster-signing-cert-file", TrustAnchorKind.Signs)]
    [InlineData("--cluster-signing-kubelet-serving-cert-file", TrustAnchorKind.Signs)]
    [InlineData("--cluster-signing-key-file", null)]
    [InlineData("--service-account-signing-key-file", null)]
    [InlineData("--tls-cert-file", null)]
    public void KindOf_Setting_IsWhatTheServiceDoesWithTheFile(string setting, TrustAnchorKind? expected)
    {
        Assert.Equal(expected, TrustAnchors.KindOf(setting));
    }
}
