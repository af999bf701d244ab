using CertFleet.Pki.Files;
using CertFleet.Pki.Inventory;
using CertFleet.Pki.Renewal;
using CertFleet.Testing;

namespace CertFleet.Pki.Tests.Renewal;

public sealed class ExpiredCertificateRenewalTests(ExpiredNodePkiFixture pki) : IClassFixture<ExpiredNodePkiFixture>
{
    [Fact]
    public void Renew_ExpiredKubeletCertificate_IsRenewedWithItsKeyAndVerifies()
    {
        // The emergency: worker-1's certificate expired. Put the CA key there, as an operator would on a master.
        var root = pki.CopyNode("worker-1");
        var pkiDir = Path.Combine(root, "etc/kubernetes/pki");
        File.Copy(Path.Combine(pki.NodeRoot("master-1"), "etc/kubernetes/pki/ca.key"), Path.Combine(pkiDir, "ca.key"));
        var file = Path.Combine(pkiDir, "worker-1.crt");
        Assert.NotEqual(0, Openssl.Verify(Path.Combine(pkiDir, "ca.crt"), file).ExitCode);

        RenewalRun.Renew(root, authorities: false);

        var verify = Openssl.Verify(Path.Combine(pkiDir, "ca.crt"), file);
        Assert.True(verify.ExitCode == 0, verify.Combined);
        Assert.Equal(Openssl.PublicKey(Path.Combine(pki.NodeRoot("worker-1"), "etc/kubernetes/pki/worker-1.crt")), Openssl.PublicKey(file));
    }
}

public sealed class CfsslLayoutRenewalTests(CfsslLayoutFixture layout) : IClassFixture<CfsslLayoutFixture>
{
    private static string Ssl(string root, string name) => Path.Combine(root, "etc/kubernetes/ssl", name);

    private static string SignatureAlgorithmOf(string certificateFile) =>
        Openssl.Text(certificateFile).Split('\n').First(l => l.Contains("Signature Algorithm:", StringComparison.Ordinal)).Trim();

    [Fact]
    public void Renew_CfsslLayoutWithCa_RenewsEverythingInPlaceAndOpensslVerifiesAgainstTheBundle()
    {
        var root = layout.Copy();

        var result = RenewalRun.Renew(root, authorities: true);

        Assert.Equal(6, result.Renewed.Count); // 2 CAs, kubernetes, admin, the expired kube-proxy, etcd
        var bundle = Ssl(root, "ca-bundle.pem");
        foreach (var file in new[] { Ssl(root, "kubernetes.pem"), Ssl(root, "admin.pem"), Ssl(root, "kube-proxy.pem"), Path.Combine(root, "etc/ssl/etcd/etcd.pem") })
        {
            var verify = Openssl.Verify(bundle, file);
            Assert.True(verify.ExitCode == 0, $"{file}: {verify.Combined}");
        }
        // the bundle still holds both CAs, in order, now the renewed ones
        Assert.Equal(2, File.ReadAllText(bundle).Split("BEGIN CERTIFICATE").Length - 1);
        Assert.Equal(File.ReadAllText(Ssl(root, "ca.pem")).Trim(), File.ReadAllText(bundle).Split("-----END CERTIFICATE-----")[0].Trim() + "\n-----END CERTIFICATE-----");
    }

    [Fact]
    public void Renew_CfsslLayout_KeepsIpv6UriAndEmailSansAndGivesACertificateWithoutKeyIdsOnlyTheRfc5280Aki()
    {
        var root = layout.Copy();

        RenewalRun.Renew(root, authorities: false);

        Assert.Equal(Openssl.Extension(Ssl(layout.Root, "kubernetes.pem"), "subjectAltName"), Openssl.Extension(Ssl(root, "kubernetes.pem"), "subjectAltName"));
        Assert.Equal(Openssl.Subject(Ssl(layout.Root, "kubernetes.pem")), Openssl.Subject(Ssl(root, "kubernetes.pem")));
        // admin.pem had neither key identifier: it gets no SKI, and the AKI RFC 5280 asks of a CA-issued
        // certificate, naming the CA's SKI (so chain building picks the right CA)
        var adminText = Openssl.Text(Ssl(root, "admin.pem"));
        Assert.DoesNotContain("Subject Key Identifier", adminText, StringComparison.Ordinal);
        var caKeyId = Openssl.Extension(Ssl(root, "ca.pem"), "subjectKeyIdentifier").Split('\n')[1].Trim();
        Assert.Contains(caKeyId, Openssl.Extension(Ssl(root, "admin.pem"), "authorityKeyIdentifier"), StringComparison.Ordinal);
        // the P-384 etcd CA signed etcd.pem with openssl's default digest; its renewal keeps that algorithm
        Assert.Equal(SignatureAlgorithmOf(Path.Combine(layout.Root, "etc/ssl/etcd/etcd.pem")),
            SignatureAlgorithmOf(Path.Combine(root, "etc/ssl/etcd/etcd.pem")));
    }

    [Fact]
    public void Renew_HandWrittenKubeconfig_ChangesOnlyTheCertificateDataKeepingCommentsQuotesAndOrder()
    {
        var root = layout.Copy();
        var path = Path.Combine(root, "etc/kubernetes/kube-proxy.kubeconfig");
        var before = File.ReadAllLines(path);

        RenewalRun.Renew(root, authorities: false);

        var after = File.ReadAllLines(path);
        Assert.Equal(before.Length, after.Length);
        for (var i = 0; i < before.Length; i++)
        {
            if (before[i].Contains("client-certificate-data", StringComparison.Ordinal))
            {
                Assert.NotEqual(before[i], after[i]);
                Assert.EndsWith("\"   # quoted on purpose", after[i], StringComparison.Ordinal);
            }
            else
            {
                Assert.Equal(before[i], after[i]); // comments, the key data, the CA data (no --ca), order
            }
        }
        using var inventory = new NodeScanner(TimeProvider.System).Scan(new NodeRoot(root));
        var client = inventory.Certificates.Single(e => e.KubeconfigUser == "kube-proxy");
        Assert.True(client.Certificate.NotAfter > DateTimeOffset.UtcNow);
        Assert.True(client.KeyMatches);
    }
}
