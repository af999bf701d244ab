using CertFleet.Pki.Files;
using CertFleet.Pki.Inventory;
using CertFleet.Pki.Renewal;
using CertFleet.Testing;

namespace CertFleet.Pki.Tests.Renewal;

/// <summary>`renew --local` of a whole master, judged by openssl. Runs once for RSA and once for EC keys.</summary>
public abstract class LocalRenewalTests<TFixture>(TFixture pki) where TFixture : ClusterPkiFixture
{
    private const string Pki = "etc/kubernetes/pki";

    private static readonly string[] Leaves =
    [
        "etcd-server", "etcd-peer", "apiserver-etcd-client", "apiserver", "apiserver-kubelet-client", "front-proxy-client",
        "kube-controller-manager", "kube-scheduler", "admin", "kube-proxy", "master-1",
    ];

    private static string CaFor(string leaf) => leaf == "front-proxy-client" ? "front-proxy-ca.crt" : "ca.crt";

    [Fact]
    public void Renew_MasterNode_EveryLeafVerifiesWithOpensslAndKeepsSubjectSansUsagesAndKey()
    {
        var root = pki.CopyNode("master-1");
        var before = Leaves.ToDictionary(l => l, l => Openssl.Text(Path.Combine(root, Pki, l + ".crt")));

        var result = RenewalRun.Renew(root, authorities: false);

        Assert.Equal(Leaves.Length, result.Renewed.Count);
        foreach (var leaf in Leaves)
        {
            var file = Path.Combine(root, Pki, leaf + ".crt");
            var verify = Openssl.Verify(Path.Combine(root, Pki, CaFor(leaf)), file);
            Assert.True(verify.ExitCode == 0, $"{leaf}: {verify.Combined}");
            Assert.Equal(StableParts(before[leaf]), StableParts(Openssl.Text(file)));
            Assert.NotEqual(Serial(before[leaf]), Serial(Openssl.Text(file)));
        }
    }

    [Fact]
    public void Renew_MasterNode_NeverRewritesAKeyAndKeepsModes()
    {
        var root = pki.CopyNode("master-1");
        var keysBefore = FolderSnapshot.Take(Path.Combine(root, Pki));

        RenewalRun.Renew(root, authorities: true);

        var after = FolderSnapshot.Take(Path.Combine(root, Pki));
        var changed = keysBefore.Differences(after);
        Assert.DoesNotContain(changed, p => p.EndsWith(".key", StringComparison.Ordinal) || p.EndsWith(".pub", StringComparison.Ordinal));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(root, "etc/kubernetes/admin.conf")));
        Assert.Equal(File.GetUnixFileMode(Path.Combine(pki.NodeRoot("master-1"), Pki, "apiserver.crt")),
            File.GetUnixFileMode(Path.Combine(root, Pki, "apiserver.crt")));
    }

    [Fact]
    public void Renew_WithCa_OldLeavesVerifyAgainstTheNewCaAndNewLeavesAgainstTheOldCa()
    {
        var root = pki.CopyNode("master-1");
        var original = pki.NodeRoot("master-1");

        RenewalRun.Renew(root, authorities: true);

        foreach (var ca in new[] { "ca.crt", "front-proxy-ca.crt" })
        {
            Assert.Equal(Openssl.Extension(Path.Combine(original, Pki, ca), "subjectKeyIdentifier"),
                Openssl.Extension(Path.Combine(root, Pki, ca), "subjectKeyIdentifier"));
            Assert.Equal(Openssl.PublicKey(Path.Combine(original, Pki, ca)), Openssl.PublicKey(Path.Combine(root, Pki, ca)));
            Assert.NotEqual(Openssl.Serial(Path.Combine(original, Pki, ca)), Openssl.Serial(Path.Combine(root, Pki, ca)));
        }
        foreach (var leaf in Leaves)
        {
            var oldLeafNewCa = Openssl.Verify(Path.Combine(root, Pki, CaFor(leaf)), Path.Combine(original, Pki, leaf + ".crt"));
            Assert.True(oldLeafNewCa.ExitCode == 0, $"old {leaf} against new CA: {oldLeafNewCa.Combined}");
            var newLeafOldCa = Openssl.Verify(Path.Combine(original, Pki, CaFor(leaf)), Path.Combine(root, Pki, leaf + ".crt"));
            Assert.True(newLeafOldCa.ExitCode == 0, $"new {leaf} against old CA: {newLeafOldCa.Combined}");
        }
    }

    [Fact]
    public void Renew_WithCa_ReplacesTheCaEmbeddedInKubeconfigsAndTheClientCertificatesThere()
    {
        var root = pki.CopyNode("master-1");

        RenewalRun.Renew(root, authorities: true);

        using var inventory = new NodeScanner(TimeProvider.System).Scan(new NodeRoot(root));
        var newCa = inventory.Certificates.Single(e => e.Path == "/etc/kubernetes/pki/ca.crt").Certificate;
        foreach (var kubeconfig in new[] { "/etc/kubernetes/admin.conf", "/etc/kubernetes/kube-proxy.kubeconfig" })
        {
            var embedded = inventory.Certificates.Where(e => e.Path == kubeconfig).ToList();
            Assert.Equal(newCa.Sha256Fingerprint, Assert.Single(embedded, e => e.IsCa).Certificate.Sha256Fingerprint);
            var client = Assert.Single(embedded, e => !e.IsCa);
            Assert.True(client.KeyMatches);
            Assert.True(client.Certificate.NotAfter > DateTimeOffset.UtcNow.AddDays(300));
        }
        // the file copy and the kubeconfig copy of the admin certificate are the same new certificate
        Assert.Equal(
            inventory.Certificates.Single(e => e.Path == "/etc/kubernetes/pki/admin.crt").Certificate.Sha256Fingerprint,
            inventory.Certificates.Single(e => e.Path == "/etc/kubernetes/admin.conf" && !e.IsCa).Certificate.Sha256Fingerprint);
    }

    [Fact]
    public void Renew_MasterNode_BacksUpEveryChangedFileUnderTheRootMirroringItsPath()
    {
        var root = pki.CopyNode("master-1");
        var before = FolderSnapshot.Take(root);

        var result = RenewalRun.Renew(root, authorities: false);

        Assert.NotNull(result.BackupDirectory);
        Assert.StartsWith("/var/lib/certfleet/backups/", result.BackupDirectory, StringComparison.Ordinal);
        var backups = FolderSnapshot.Take(Path.Combine(root, result.BackupDirectory!.TrimStart('/')));
        foreach (var changed in result.ChangedFiles)
        {
            var relative = changed.TrimStart('/');
            Assert.Equal(before.Files[relative].Split(' ')[0], backups.Files[relative].Split(' ')[0]);
        }
        Assert.Equal(result.ChangedFiles.Count, backups.Files.Count);
    }

    private static string Serial(string text) =>
        text.Split('\n').SkipWhile(l => !l.Contains("Serial Number", StringComparison.Ordinal)).Skip(1).First().Trim();

    /// <summary>The -text output without what a renewal must change: serial, validity, signature.</summary>
    private static string StableParts(string text)
    {
        var lines = text.Split('\n').ToList();
        var kept = new List<string>();
        for (var i = 0; i < lines.Count; i++)
        {
            var line = lines[i];
            if (line.Contains("Serial Number", StringComparison.Ordinal))
            {
                i += 1; // the serial itself is on the next line
                continue;
            }
            if (line.Contains("Validity", StringComparison.Ordinal))
            {
                i += 2; // Not Before, Not After
                continue;
            }
            if (line.StartsWith("    Signature Value", StringComparison.Ordinal))
            {
                break;
            }
            kept.Add(line);
        }
        return string.Join('\n', kept);
    }
}

public sealed class LocalRenewalRsaTests(RsaClusterPkiFixture pki) : LocalRenewalTests<RsaClusterPkiFixture>(pki), IClassFixture<RsaClusterPkiFixture>;

public sealed class LocalRenewalEcTests(EcClusterPkiFixture pki) : LocalRenewalTests<EcClusterPkiFixture>(pki), IClassFixture<EcClusterPkiFixture>;
