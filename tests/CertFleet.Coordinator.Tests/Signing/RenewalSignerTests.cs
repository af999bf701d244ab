using CertFleet.Coordinator.Audit;
using CertFleet.Coordinator.Signing;
using CertFleet.Coordinator.Tests.Rollouts;
using CertFleet.Pki.Certificates;
using CertFleet.Pki.Keys;
using CertFleet.Pki.PemEncoding;
using CertFleet.Pki.Signing;
using CertFleet.Protocol.V1;
using CertFleet.Testing;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;

namespace CertFleet.Coordinator.Tests.Signing;

public sealed class RenewalSignerTests(EcClusterPkiFixture fixture) : IClassFixture<EcClusterPkiFixture>
{
    private const string Pki = "etc/kubernetes/pki";

    [Fact]
    public void Sign_CsrFromTheCertificatesOwnKey_RenewedWithSameSubjectAndKey()
    {
        using var bed = FleetTestbed.Create(fixture);
        var (reported, certificate, key) = Reported("master-1", "etcd-server");
        using (key)
        {
            var renewed = bed.Signer.Sign(bed.Inventory.Find("master-1")! with { Inventory = new InventoryReport { Certificates = { reported } } }, reported, CertificateRequestBuilder.FromExistingCertificate(certificate, key), TimeSpan.FromDays(90));

            Assert.Equal(certificate.Subject, renewed.Subject);
            Assert.Equal(certificate.SubjectPublicKeyInfoDer, renewed.SubjectPublicKeyInfoDer);
            Assert.Equal(certificate.SubjectAlternativeNames, renewed.SubjectAlternativeNames);
            Assert.True(renewed.NotAfter > bed.Time.GetUtcNow().AddDays(89));
        }
    }

    [Fact]
    public void Sign_CsrMadeWithAnotherKey_RefusedNamingNodeAndCertificate()
    {
        using var bed = FleetTestbed.Create(fixture);
        var (reported, certificate, key) = Reported("master-1", "etcd-server");
        var (_, other, otherKey) = Reported("master-1", "etcd-peer");
        using (key)
        using (otherKey)
        {
            var error = Assert.Throws<SigningRefusedException>(
                () => bed.Signer.Sign(bed.Inventory.Find("master-1")! with { Inventory = new InventoryReport { Certificates = { reported } } }, reported, CertificateRequestBuilder.FromExistingCertificate(other, otherKey), TimeSpan.FromDays(90)));

            Assert.Equal(("master-1", "/etc/kubernetes/pki/etcd-server.crt", certificate.Subject), (error.Refusal.Node, error.Refusal.Path, error.Refusal.Subject));
            Assert.Contains("different public key", error.Refusal.Reason, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Sign_IssuedByACaTheCoordinatorDoesNotHold_Refused()
    {
        using var bed = FleetTestbed.Create(fixture, authorities: ["ca"]);
        var (reported, certificate, key) = Reported("master-1", "front-proxy-client");
        using (key)
        {
            var error = Assert.Throws<SigningRefusedException>(
                () => bed.Signer.Sign(bed.Inventory.Find("master-1")! with { Inventory = new InventoryReport { Certificates = { reported } } }, reported, CertificateRequestBuilder.FromExistingCertificate(certificate, key), TimeSpan.FromDays(90)));

            Assert.Contains("not a CA this coordinator signs with", error.Refusal.Reason, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Sign_CsrFromOpensslX509ToReqAskingForNoExtensions_IssuedWithTheCertificatesOwnNamesAndUsages()
    {
        // the runbook's `openssl x509 -x509toreq` (OpenSSL 3 copies no extensions unless told to): the request asks for
        // nothing, so the renewal keeps what the certificate has, as the operator expects
        using var bed = FleetTestbed.Create(fixture);
        var (reported, certificate, key) = Reported("master-1", "etcd-server");
        key.Dispose();
        var scratch = ScratchDirectory.Create("x509toreq");
        try
        {
            var folder = Path.Combine(fixture.NodeRoot("master-1"), Pki);
            var csrFile = Path.Combine(scratch, "etcd-server.csr");
            Openssl.Checked("x509", "-x509toreq", "-in", Path.Combine(folder, "etcd-server.crt"), "-signkey", Path.Combine(folder, "etcd-server.key"),
                "-out", csrFile);
            Assert.DoesNotContain("X509v3", Openssl.Checked("req", "-in", csrFile, "-noout", "-text"), StringComparison.Ordinal);
            var csr = Assert.Single(Pem.Read(File.ReadAllText(csrFile), csrFile)).Der;

            var renewed = bed.Signer.Sign(bed.Inventory.Find("master-1")! with { Inventory = new InventoryReport { Certificates = { reported } } },
                reported, csr, TimeSpan.FromDays(90));

            var renewedFile = Path.Combine(scratch, "renewed.crt");
            File.WriteAllText(renewedFile, renewed.ToPem());
            foreach (var extension in new[] { "subjectAltName", "keyUsage", "extendedKeyUsage", "basicConstraints" })
            {
                Assert.Equal(Openssl.Extension(Path.Combine(folder, "etcd-server.crt"), extension), Openssl.Extension(renewedFile, extension));
            }
            Assert.Equal(0, Openssl.Verify(Path.Combine(folder, "ca.crt"), renewedFile).ExitCode);
            Assert.Equal(AuditKinds.Issued, Assert.Single(bed.Audit.Read("master-1", null)).Kind);
        }
        finally
        {
            ScratchDirectory.Delete(scratch);
        }
    }

    [Fact]
    public void RenewAuthority_ThenCoordinatorRestarts_SignsWithTheRenewedCaFromTheStateDirectory()
    {
        using var bed = FleetTestbed.Create(fixture);
        var ca = bed.Authorities.All.Single(a => a.Certificate.Subject == "CN=kubernetes");

        var renewed = bed.Signer.RenewAuthority(ca, TimeSpan.FromDays(3650));
        using var restarted = new ClusterAuthorities(bed.Options, NullLogger<ClusterAuthorities>.Instance);

        var reloaded = restarted.All.Single(a => a.Certificate.Subject == "CN=kubernetes").Certificate;
        Assert.Equal(renewed.Sha256Fingerprint, reloaded.Sha256Fingerprint);
        Assert.Equal(ca.Certificate.SubjectKeyIdentifier, reloaded.SubjectKeyIdentifier);
        Assert.Equal(renewed.Sha256Fingerprint, bed.Authorities.All.Single(a => a.Certificate.Subject == "CN=kubernetes").Certificate.Sha256Fingerprint);
        var (_, leaf, key) = Reported("master-1", "apiserver");
        key.Dispose();
        Assert.Same(restarted.All.Single(a => a.Certificate.Subject == "CN=kubernetes"), restarted.IssuerOf(leaf));
    }

    private (ReportedCertificate Reported, CertificateInfo Certificate, PrivateKey Key) Reported(string node, string name)
    {
        var folder = Path.Combine(fixture.NodeRoot(node), Pki);
        var certificate = CertificateInfo.Parse(Pem.Read(File.ReadAllText(Path.Combine(folder, name + ".crt")), name).Single().Der, name);
        var key = PrivateKey.Parse(Pem.Read(File.ReadAllText(Path.Combine(folder, name + ".key")), name).Single(), name);
        var reported = new ReportedCertificate
        {
            Der = ByteString.CopyFrom(certificate.Der),
            Path = $"/{Pki}/{name}.crt",
            KeyPath = $"/{Pki}/{name}.key",
            KeyState = KeyState.Matches,
            Owner = CertificateOwner.Certfleet,
        };
        return (reported, certificate, key);
    }
}
