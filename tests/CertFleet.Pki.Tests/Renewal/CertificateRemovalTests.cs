using System.Text;
using CertFleet.Pki.Certificates;
using CertFleet.Pki.Files;
using CertFleet.Pki.Inventory;
using CertFleet.Pki.PemEncoding;
using CertFleet.Pki.Renewal;
using CertFleet.Testing;

namespace CertFleet.Pki.Tests.Renewal;

/// <summary>
/// Certificates removed in an install: the kubelet's self-made kubelet.crt (client-go: the serving leaf, then the
/// throwaway CA whose key is gone) gets its leaf renewed self-signed and loses the CA.
/// </summary>
public sealed class CertificateRemovalTests : IDisposable
{
    private const string Pki = "/var/lib/kubelet/pki";
    private const string Serving = Pki + "/kubelet.crt";

    private readonly string _root = ScratchDirectory.Create("removal");

    public CertificateRemovalTests()
    {
        // lib.sh's kubelet_self_signed makes the pair as client-go's GenerateSelfSignedCertKey does
        var lib = Path.Combine(SharedFixtures.RepositoryRoot, "tests", "fixtures", "guides", "lib.sh");
        var made = ProcessRunner.Run("bash", ["-c", """. "$1"; WORK="$(mktemp -d)"; trap 'rm -rf "$WORK"' EXIT; kubelet_self_signed "$2" "$3" worker-1 10.0.0.21""", "_", lib, _root, Pki]);
        Assert.True(made.ExitCode == 0, made.Combined);
    }

    public void Dispose() => ScratchDirectory.Delete(_root);

    [Fact]
    public void Install_LeafRenewedSelfSignedAndThrowawayCaRemoved_LeavesOnlyTheNewLeafMatchingItsKey()
    {
        using var inventory = new NodeScanner(TimeProvider.System).Scan(new NodeRoot(_root));
        var (leaf, ca) = LeafAndCa(inventory);
        var renewed = SelfSigned(leaf);

        var result = new CertificateInstaller(TimeProvider.System).Install(inventory,
            new Dictionary<string, CertificateInfo> { [leaf.Certificate.Sha256Fingerprint] = renewed }, removals: new HashSet<string> { ca.Certificate.Sha256Fingerprint.ToLowerInvariant() });

        Assert.Equal([Serving], result.ChangedFiles);
        var file = Host(Serving);
        // the CA's block went with the line break after it: the file is the new leaf's PEM and nothing else
        Assert.Equal(Pem.Write("CERTIFICATE", renewed.Der), File.ReadAllText(file));
        Assert.Equal(Openssl.Checked("pkey", "-in", Host(Pki + "/kubelet.key"), "-pubout"), Openssl.PublicKey(file));
        Assert.Equal(Openssl.Subject(file)["subject=".Length..],
            Openssl.Checked("x509", "-in", file, "-noout", "-issuer", "-nameopt", "RFC2253").Trim()["issuer=".Length..]);
        Assert.Equal(renewed.SerialHex, Openssl.Serial(file), ignoreCase: true);
    }

    [Fact]
    public void Install_RemovalWouldEmptyAKubeconfigsCertificateAuthority_IsRefusedAndNothingIsWritten()
    {
        // a kubeconfig that trusts the throwaway CA and names the leaf: taking the CA out would leave it no CA
        var leafPem = File.ReadAllText(Host(Serving));
        var caPem = leafPem[leafPem.IndexOf("-----BEGIN CERTIFICATE-----", 1, StringComparison.Ordinal)..];
        File.WriteAllText(Host("/etc/kubernetes/kubelet-self.kubeconfig"), $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: self
              cluster:
                server: https://10.0.0.21:10250
                certificate-authority-data: {Base64(caPem)}
            users:
            - name: self
              user:
                client-certificate-data: {Base64(leafPem[..leafPem.IndexOf("-----BEGIN CERTIFICATE-----", 1, StringComparison.Ordinal)])}
                client-key-data: {Base64(File.ReadAllText(Host(Pki + "/kubelet.key")))}
            contexts:
            - name: self
              context:
                cluster: self
                user: self
            current-context: self

            """);
        var before = FolderSnapshot.Take(_root);
        using var inventory = new NodeScanner(TimeProvider.System).Scan(new NodeRoot(_root));
        var (leaf, ca) = LeafAndCa(inventory);
        Assert.Contains(inventory.Certificates, e => e.Path == "/etc/kubernetes/kubelet-self.kubeconfig" && e.Certificate.Sha256Fingerprint == ca.Certificate.Sha256Fingerprint);

        var error = Assert.Throws<PkiException>(() => new CertificateInstaller(TimeProvider.System).Install(inventory,
            new Dictionary<string, CertificateInfo> { [leaf.Certificate.Sha256Fingerprint] = SelfSigned(leaf) }, removals: new HashSet<string> { ca.Certificate.Sha256Fingerprint }));

        Assert.Contains("without a certificate", error.Message);
        Assert.Contains("/etc/kubernetes/kubelet-self.kubeconfig", error.Message);
        Assert.Empty(before.Differences(FolderSnapshot.Take(_root)));
    }

    [Fact]
    public void Install_SameCertificateToReplaceAndRemove_IsRefusedAndNothingIsWritten()
    {
        var before = FolderSnapshot.Take(_root);
        using var inventory = new NodeScanner(TimeProvider.System).Scan(new NodeRoot(_root));
        var (leaf, _) = LeafAndCa(inventory);

        var error = Assert.Throws<PkiException>(() => new CertificateInstaller(TimeProvider.System).Install(inventory,
            new Dictionary<string, CertificateInfo> { [leaf.Certificate.Sha256Fingerprint] = SelfSigned(leaf) }, removals: new HashSet<string> { leaf.Certificate.Sha256Fingerprint }));

        Assert.Contains("both replaced and removed", error.Message);
        Assert.Empty(before.Differences(FolderSnapshot.Take(_root)));
    }

    private static (CertificateEntry Leaf, CertificateEntry Ca) LeafAndCa(NodeInventory inventory)
    {
        var inFile = inventory.Certificates.Where(e => e.Path == Serving).ToList();
        Assert.Equal(2, inFile.Count);
        return (inFile.Single(e => !e.IsCa), inFile.Single(e => e.IsCa));
    }

    /// <summary>The leaf self-signed with its own key by openssl (`x509 -signkey`: same subject and key, issuer itself).</summary>
    private CertificateInfo SelfSigned(CertificateEntry leaf)
    {
        var input = Path.Combine(_root, "leaf.pem");
        var output = Path.Combine(_root, "renewed.pem");
        File.WriteAllText(input, Pem.Write("CERTIFICATE", leaf.Certificate.Der));
        Openssl.Checked("x509", "-in", input, "-signkey", Host(Pki + "/kubelet.key"), "-days", "365", "-out", output);
        var renewed = CertificateInfo.Parse(Pem.Read(File.ReadAllText(output), output).Single().Der, output);
        File.Delete(input);
        File.Delete(output);
        return renewed;
    }

    private static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    private string Host(string pathOnNode)
    {
        var host = Path.Combine(_root, pathOnNode.TrimStart('/'));
        Directory.CreateDirectory(Path.GetDirectoryName(host)!);
        return host;
    }
}
