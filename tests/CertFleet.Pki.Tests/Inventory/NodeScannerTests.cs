using CertFleet.Pki.Certificates;
using CertFleet.Pki.Files;
using CertFleet.Pki.Inventory;
using CertFleet.Pki.PemEncoding;
using CertFleet.Testing;

namespace CertFleet.Pki.Tests.Inventory;

public sealed class NodeScannerTests(RsaClusterPkiFixture pki) : IClassFixture<RsaClusterPkiFixture>
{
    private static NodeInventory Scan(string root) => new NodeScanner(TimeProvider.System).Scan(new NodeRoot(root));

    [Theory]
    [InlineData("master-1")]
    [InlineData("worker-1")]
    public void Scan_FixtureNode_FindsEveryCertificateOfTheManifestWithItsSubjectAndIssuer(string node)
    {
        using var inventory = Scan(pki.NodeRoot(node));

        var expected = pki.Manifest().Where(r => r.Node == node).ToList();
        Assert.NotEmpty(expected);
        foreach (var row in expected)
        {
            var entry = Assert.Single(inventory.Certificates, e => e.Path == row.Path);
            Assert.Equal(row.Subject, entry.Certificate.Subject);
            Assert.Equal(row.Issuer, entry.Certificate.Issuer);
        }
        Assert.Empty(inventory.Errors);
    }

    [Fact]
    public void Scan_LeafWhoseCaIsOnlyOutsideTheRoot_HasThatCaAsIssuerNamedAsGiven()
    {
        var root = ScratchDirectory.Create("leaf-alone");
        try
        {
            var masterPki = Path.Combine(pki.NodeRoot("master-1"), "etc/kubernetes/pki");
            var pkiFolder = Path.Combine(root, "etc/kubernetes/pki");
            Directory.CreateDirectory(pkiFolder);
            File.Copy(Path.Combine(masterPki, "apiserver.crt"), Path.Combine(pkiFolder, "apiserver.crt"));
            var ca = CertificateInfo.Parse(Pem.Read(File.ReadAllText(Path.Combine(masterPki, "ca.crt")), "ca.crt")[0].Der, "ca.crt");

            using var alone = Scan(root);
            using var withOutside = new NodeScanner(TimeProvider.System).Scan(new NodeRoot(root), [new TrustedAuthority(ca, "/srv/ca/ca.crt")]);

            Assert.Null(Assert.Single(alone.Certificates).IssuerCertificate);
            var entry = Assert.Single(withOutside.Certificates);
            Assert.Equal("CN=kubernetes", entry.IssuerCertificate?.Subject);
            Assert.Equal("/srv/ca/ca.crt", entry.IssuerPath);
        }
        finally
        {
            ScratchDirectory.Delete(root);
        }
    }

    [Fact]
    public void Scan_MasterNode_PairsEveryLeafWithItsOwnKeyFile()
    {
        using var inventory = Scan(pki.NodeRoot("master-1"));

        foreach (var entry in inventory.Certificates.Where(e => e.KubeconfigUser is null && e.Location.Field is null))
        {
            Assert.True(entry.KeyMatches, $"{entry.Path} has no matching key");
            Assert.Equal(Path.ChangeExtension(entry.Path, ".key"), entry.KeyPath);
        }
    }

    [Fact]
    public void Scan_EmbeddedKubeconfig_ReportsTheUserAndTheEmbeddedKey()
    {
        using var inventory = Scan(pki.NodeRoot("master-1"));

        var admin = Assert.Single(inventory.Certificates, e => e.Path == "/etc/kubernetes/admin.conf" && e.KubeconfigUser is not null);
        Assert.Equal("kubernetes-admin", admin.KubeconfigUser);
        Assert.Equal("CN=kubernetes-admin,O=system:masters", admin.Certificate.Subject);
        Assert.Equal("/etc/kubernetes/admin.conf", admin.KeyPath);
        Assert.True(admin.KeyMatches);
        // the cluster's certificate-authority-data is there too, as a CA
        Assert.Contains(inventory.Certificates, e => e.Path == "/etc/kubernetes/admin.conf" && e.IsCa);
    }

    [Theory]
    [InlineData("/etc/kubernetes/pki/apiserver.crt", "kube-apiserver.service")]
    [InlineData("/etc/kubernetes/pki/etcd-server.crt", "etcd.service")] // named in /etc/etcd/etcd.env via EnvironmentFile=
    [InlineData("/etc/kubernetes/pki/kube-controller-manager.crt", "kube-controller-manager.service")] // through its kubeconfig
    [InlineData("/etc/kubernetes/pki/master-1.crt", "kubelet.service")]
    [InlineData("/etc/kubernetes/kube-proxy.kubeconfig", "kube-proxy.service")]
    public void Scan_MasterNode_MapsEachCertificateToTheUnitsThatUseIt(string path, string unit)
    {
        using var inventory = Scan(pki.NodeRoot("master-1"));

        var entry = inventory.Certificates.First(e => e.Path == path && !e.IsCa);
        Assert.Contains(unit, entry.UsedBy);
    }

    [Fact]
    public void Scan_CaCertificate_IsUsedByEveryUnitThatTrustsIt()
    {
        using var inventory = Scan(pki.NodeRoot("master-1"));

        var ca = Assert.Single(inventory.Certificates, e => e.Path == "/etc/kubernetes/pki/ca.crt");
        Assert.True(ca.IsCa);
        Assert.True(ca.IsSelfSigned);
        Assert.Equal("/etc/kubernetes/pki/ca.key", ca.KeyPath);
        Assert.Equal(
            ["etcd.service", "kube-apiserver.service", "kube-controller-manager.service", "kube-scheduler.service", "kubelet.service"],
            ca.UsedBy.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Scan_FilesByContentNotName_FindsACertificateWithAnOddNameAndSkipsOtherFiles()
    {
        var root = pki.CopyNode("worker-2");
        var pkiDir = Path.Combine(root, "etc/kubernetes/pki");
        File.Copy(Path.Combine(pkiDir, "kube-proxy.crt"), Path.Combine(pkiDir, "proxy-client.backup"));
        File.WriteAllText(Path.Combine(pkiDir, "README"), "not a certificate\n");

        using var inventory = Scan(root);

        var odd = Assert.Single(inventory.Certificates, e => e.Path == "/etc/kubernetes/pki/proxy-client.backup");
        Assert.Equal("CN=system:kube-proxy", odd.Certificate.Subject);
        Assert.True(odd.KeyMatches); // paired by public key with kube-proxy.key
        Assert.DoesNotContain(inventory.Certificates, e => e.Path.EndsWith("README", StringComparison.Ordinal));
        Assert.Empty(inventory.Errors);
    }

    [Fact]
    public void Scan_TruncatedPemAndGarbageKubeconfig_ReportsEachFileWithAnErrorAndKeepsTheRest()
    {
        var root = pki.CopyNode("worker-1");
        var pkiDir = Path.Combine(root, "etc/kubernetes/pki");
        var text = File.ReadAllText(Path.Combine(pkiDir, "worker-1.crt"));
        File.WriteAllText(Path.Combine(pkiDir, "worker-1.crt"), text[..(text.Length / 2)]);
        File.WriteAllText(Path.Combine(root, "etc/kubernetes/kube-proxy.kubeconfig"), "kind: Config\nusers: [unclosed\n  - {\n");

        using var inventory = Scan(root);

        Assert.Contains(inventory.Errors, e => e.Path == "/etc/kubernetes/pki/worker-1.crt");
        Assert.Contains(inventory.Errors, e => e.Path == "/etc/kubernetes/kube-proxy.kubeconfig");
        Assert.All(inventory.Errors, e => Assert.Contains(e.Path, e.Message, StringComparison.Ordinal));
        Assert.Contains(inventory.Certificates, e => e.Path == "/etc/kubernetes/pki/kube-proxy.crt");
    }

    [Fact]
    public void Scan_KeyThatDoesNotMatch_IsReportedAsMismatch()
    {
        var root = pki.CopyNode("worker-1");
        var pkiDir = Path.Combine(root, "etc/kubernetes/pki");
        File.Copy(Path.Combine(pkiDir, "kube-proxy.key"), Path.Combine(pkiDir, "worker-1.key"), overwrite: true);

        using var inventory = Scan(root);

        var kubelet = Assert.Single(inventory.Certificates, e => e.Path == "/etc/kubernetes/pki/worker-1.crt");
        Assert.False(kubelet.KeyMatches);
        Assert.Equal("/etc/kubernetes/pki/worker-1.key", kubelet.KeyPath);
        Assert.Null(kubelet.Key);
    }

    [Fact]
    public void Scan_SymlinkToAnAbsolutePathOutsideTheRoot_IsReadInsideTheRootOnly()
    {
        var root = pki.CopyNode("worker-1");
        // On the host this would be the machine's own CA bundle; under --root it must mean ROOT/etc/ssl/...
        File.CreateSymbolicLink(Path.Combine(root, "etc/kubernetes/pki/host-ca.crt"), "/etc/ssl/certs/ca-certificates.crt");

        using var inventory = Scan(root);

        Assert.DoesNotContain(inventory.Certificates, e => e.Path.Contains("ca-certificates", StringComparison.Ordinal));
        Assert.DoesNotContain(inventory.Certificates, e => e.Path.Contains("host-ca", StringComparison.Ordinal));
    }
}

public sealed class NodeScannerKubeletRotationTests(KubeletRotationPkiFixture pki) : IClassFixture<KubeletRotationPkiFixture>
{
    [Fact]
    public void Scan_RotatingKubelet_ReportsTheRotatedClientAndSelfSignedServingCertificatesAsTheKubelets()
    {
        using var inventory = new NodeScanner(TimeProvider.System).Scan(new NodeRoot(pki.NodeRoot("worker-1")));

        var client = Assert.Single(inventory.Certificates, e => e.Certificate.Subject == "CN=system:node:worker-1,O=system:nodes");
        Assert.Equal(RenewalOwner.KubeletRotation, client.Owner);
        // kubelet-client-current.pem is a symlink with an absolute target: resolved inside the root
        Assert.StartsWith("/var/lib/kubelet/pki/kubelet-client-", client.Path, StringComparison.Ordinal);
        Assert.Equal(client.Path, client.KeyPath); // certificate and key in one file
        Assert.True(client.KeyMatches);
        Assert.Contains("kubelet.service", client.UsedBy);

        var serving = Assert.Single(inventory.Certificates, e => e.Path == "/var/lib/kubelet/pki/kubelet.crt");
        Assert.Equal(RenewalOwner.KubeletSelfSigned, serving.Owner);
    }
}

public sealed class NodeScannerCfsslLayoutTests(CfsslLayoutFixture layout) : IClassFixture<CfsslLayoutFixture>
{
    [Fact]
    public void Scan_CfsslLayout_PairsPkcs8KeysByCfsslNamesAndFindsBothCasOfTheBundle()
    {
        using var inventory = new NodeScanner(TimeProvider.System).Scan(new NodeRoot(layout.Root));

        var apiserver = Assert.Single(inventory.Certificates, e => e.Path == "/etc/kubernetes/ssl/kubernetes.pem");
        Assert.Equal("/etc/kubernetes/ssl/kubernetes-key.pem", apiserver.KeyPath);
        Assert.True(apiserver.KeyMatches);
        // same subject as its CA, yet not self-signed: cfssl runbooks really do this
        Assert.False(apiserver.IsSelfSigned);
        Assert.Equal(RenewalOwner.CertFleet, apiserver.Owner);
        Assert.Equal("/etc/kubernetes/ssl/ca.pem", apiserver.IssuerPath);
        Assert.Contains("IP:fd00::1", apiserver.Certificate.SubjectAlternativeNames);
        Assert.Contains("kube-apiserver.service", apiserver.UsedBy); // --tls-cert-file="${SSL}/kubernetes.pem"

        var bundle = inventory.Certificates.Where(e => e.Path == "/etc/kubernetes/ssl/ca-bundle.pem").ToList();
        Assert.Equal(["CN=kubernetes,OU=System,O=k8s,L=BeiJing,ST=BeiJing,C=CN", "CN=etcd-ca"], bundle.Select(e => e.Certificate.Subject));
        Assert.All(bundle, e => Assert.True(e.IsInBundle));

        var etcd = Assert.Single(inventory.Certificates, e => e.Path == "/etc/ssl/etcd/etcd.pem");
        Assert.Equal("/etc/ssl/etcd/etcd-ca.pem", etcd.IssuerPath);
    }
}
