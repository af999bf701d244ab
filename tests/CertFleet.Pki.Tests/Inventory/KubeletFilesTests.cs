using CertFleet.Pki.Files;
using CertFleet.Pki.Inventory;
using CertFleet.Pki.Verification;
using CertFleet.Testing;
using CertFleet.Testing.Guides;
using Microsoft.Extensions.Time.Testing;

namespace CertFleet.Pki.Tests.Inventory;

/// <summary>
/// The kubelet's files on the /opt layout, where --cert-dir is /opt/kubernetes/ssl: the cluster CA, the master's
/// server certificate, the kubelet's bootstrapped client certificate (rotation not set) and the kubelet.crt it made
/// for itself (leaf, then client-go's throwaway CA) all share one folder.
/// </summary>
public sealed class KubeletFilesTests(OptLayout layout) : IClassFixture<OptLayout>
{
    private const string CertDirectory = "/opt/kubernetes/ssl";
    private const string Link = CertDirectory + "/kubelet-client-current.pem";

    private static NodeInventory Scan(string root, TimeProvider? time = null) =>
        new NodeScanner(time ?? TimeProvider.System).Scan(new NodeRoot(root));

    [Fact]
    public void Scan_ClusterCaInTheKubeletsCertDir_IsACaNotTheKubeletsOwn()
    {
        using var inventory = Scan(layout.NodeRoot("master"));

        var ca = Assert.Single(inventory.Certificates, e => e.Path == CertDirectory + "/ca.pem");
        Assert.True(ca.IsAuthority);
        Assert.Equal(RenewalOwner.CertFleet, ca.Owner);
        Assert.Equal(CertDirectory + "/ca-key.pem", ca.KeyPath);
        // the folder is the kubelet's --cert-dir, but the apiserver's certificate in it is not the kubelet's
        var server = Assert.Single(inventory.Certificates, e => e.Path == CertDirectory + "/server.pem");
        Assert.DoesNotContain("kubelet.service", server.UsedBy);
    }

    [Fact]
    public void Scan_SelfMadeKubeletCrtWithItsThrowawayCa_IsTheKubeletsAndItsKeyMatchesTheLeaf()
    {
        using var inventory = Scan(layout.NodeRoot("master"));

        var inFile = inventory.Certificates.Where(e => e.Path == CertDirectory + "/kubelet.crt").ToList();
        Assert.Equal(2, inFile.Count);
        Assert.All(inFile, e => Assert.Equal(RenewalOwner.KubeletSelfSigned, e.Owner));
        Assert.All(inFile, e => Assert.Contains("kubelet.service", e.UsedBy));
        var leaf = Assert.Single(inFile, e => !e.IsCa);
        Assert.True(leaf.KeyMatches);
        Assert.Equal(CertDirectory + "/kubelet.key", leaf.KeyPath);
        // the throwaway CA's key is gone: no key, and no false mismatch with the leaf's
        Assert.Null(Assert.Single(inFile, e => e.IsCa).KeyMatches);
    }

    [Fact]
    public void Scan_RotatedClientCertificateWithoutRotation_IsCertFleetsWithTheLinkToMove()
    {
        using var inventory = Scan(layout.NodeRoot("master"));

        var client = Assert.Single(inventory.Certificates, e => e.Certificate.Subject.StartsWith("CN=system:node:", StringComparison.Ordinal));
        Assert.StartsWith(CertDirectory + "/kubelet-client-20", client.Path, StringComparison.Ordinal);
        Assert.Equal(RenewalOwner.CertFleet, client.Owner);
        Assert.Equal(Link, client.RotationLink);
        Assert.Contains("does not rotate it", client.OwnerNote, StringComparison.Ordinal);
        Assert.Contains("kubelet.service", client.UsedBy);
    }

    [Fact]
    public void Scan_RotationOnInKubeletConfiguration_LeavesTheValidCertificateToTheKubeletSayingWhere()
    {
        var root = layout.Copy("master");
        File.AppendAllText(Path.Combine(root, "opt/kubernetes/cfg/kubelet-config.yml"), "rotateCertificates: true\n");

        using var inventory = Scan(root);

        var client = Assert.Single(inventory.Certificates, e => e.Certificate.Subject.StartsWith("CN=system:node:", StringComparison.Ordinal));
        Assert.Equal(RenewalOwner.KubeletRotation, client.Owner);
        Assert.Null(client.RotationLink);
        Assert.Contains("rotateCertificates: true in /opt/kubernetes/cfg/kubelet-config.yml", client.OwnerNote, StringComparison.Ordinal);
        // 9 days left on a certificate the kubelet rotates: its rotation is what to look at
        var problem = Assert.Single(new LocalVerifier(TimeProvider.System).Verify(inventory, TimeSpan.FromDays(30)).Problems, p => p.Path == client.Path);
        Assert.Contains("the kubelet rotates it itself, so check that its rotation works", problem.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Scan_RotationOnButTheCertificateExpired_IsCertFleetsBecauseTheKubeletCannotRotateIt()
    {
        var root = layout.Copy("master");
        File.AppendAllText(Path.Combine(root, "opt/kubernetes/cfg/kubelet-config.yml"), "rotateCertificates: true\n");
        var afterExpiry = new FakeTimeProvider(DateTimeOffset.UtcNow.AddDays(60));

        using var inventory = Scan(root, afterExpiry);

        var client = Assert.Single(inventory.Certificates, e => e.Certificate.Subject.StartsWith("CN=system:node:", StringComparison.Ordinal));
        Assert.Equal(RenewalOwner.CertFleet, client.Owner);
        Assert.Equal(Link, client.RotationLink);
        Assert.Contains("has expired, so the kubelet can no longer rotate it", client.OwnerNote, StringComparison.Ordinal);
    }

    [Fact]
    public void Scan_OlderDatedFileNoLinkLeadsTo_IsTheKubeletsHistoryAndNotVerified()
    {
        var root = layout.Copy("master");
        var current = Path.Combine(root, "opt/kubernetes/ssl", Path.GetFileName(new FileInfo(Path.Combine(root, Link.TrimStart('/'))).LinkTarget!));
        var old = Path.Combine(root, "opt/kubernetes/ssl/kubelet-client-2020-01-01-00-00-00.pem");
        File.Copy(current, old);

        using var inventory = Scan(root);
        var report = new LocalVerifier(TimeProvider.System).Verify(inventory, TimeSpan.FromDays(5));

        var history = Assert.Single(inventory.Certificates, e => e.Path.EndsWith("kubelet-client-2020-01-01-00-00-00.pem", StringComparison.Ordinal));
        Assert.Equal(RenewalOwner.KubeletRotationHistory, history.Owner);
        Assert.Empty(history.UsedBy); // a restart of the kubelet does nothing for it
        Assert.Contains($"{Link} points to /opt/kubernetes/ssl/{Path.GetFileName(current)}", history.OwnerNote, StringComparison.Ordinal);
        Assert.DoesNotContain(report.Problems, p => p.Path == history.Path);
    }

    [Fact]
    public void Scan_SelfSignedKubeletCrtThatIssuedOtherCertificates_IsACa()
    {
        var root = layout.Copy("master");
        // an operator who kept the cluster CA as the kubelet's serving pair: it issued the node's certificates
        var ssl = Path.Combine(root, "opt/kubernetes/ssl");
        File.Copy(Path.Combine(ssl, "ca.pem"), Path.Combine(ssl, "kubelet.crt"), overwrite: true);
        File.Copy(Path.Combine(ssl, "ca-key.pem"), Path.Combine(ssl, "kubelet.key"), overwrite: true);

        using var inventory = Scan(root);

        var served = Assert.Single(inventory.Certificates, e => e.Path == CertDirectory + "/kubelet.crt");
        Assert.Equal(RenewalOwner.CertFleet, served.Owner);
        Assert.True(served.IsAuthority);
    }

    [Fact]
    public void Verify_KubeconfigNamingADeletedFile_NamesTheFileTheKubeconfigAndTheLinkTarget()
    {
        var root = layout.Copy("master");
        var target = new FileInfo(Path.Combine(root, Link.TrimStart('/'))).LinkTarget!;
        File.Delete(Path.Combine(root, target.TrimStart('/')));

        using var inventory = Scan(root);
        var report = new LocalVerifier(TimeProvider.System).Verify(inventory, TimeSpan.FromDays(5));

        var problem = Assert.Single(report.Problems, p => p.Path == Link && p.Unit is null);
        Assert.Contains("client-certificate and client-key of user default-auth in /opt/kubernetes/cfg/kubelet.kubeconfig name it, but it does not exist", problem.Problem, StringComparison.Ordinal);
        Assert.Contains($"a link to {target}, which is gone", problem.Problem, StringComparison.Ordinal);
    }
}
