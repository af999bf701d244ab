using System.Globalization;
using CertFleet.Pki.Certificates;
using CertFleet.Testing;

namespace CertFleet.Pki.Tests.Certificates;

public sealed class CertificateInfoTests(SmallEcPkiFixture ec, SmallRsaPkiFixture rsa)
    : IClassFixture<SmallEcPkiFixture>, IClassFixture<SmallRsaPkiFixture>
{
    private ClusterPkiFixture Fixture(string keyType) => keyType == "ec" ? ec : rsa;

    private string PkiFile(string keyType, string name, string node = "master-1") =>
        Path.Combine(Fixture(keyType).NodeRoot(node), "etc/kubernetes/pki", name);

    private List<(ManifestRow Row, string File)> CertificateFiles(string keyType)
    {
        var files = Fixture(keyType).Manifest()
            .Where(r => r.Path.EndsWith(".crt", StringComparison.Ordinal))
            .Select(r => (r, Path.Combine(Fixture(keyType).NodeRoot(r.Node), r.Path.TrimStart('/'))))
            .ToList();
        Assert.True(files.Count > 10, $"the fixture manifest lists only {files.Count} certificates");
        return files;
    }

    [Theory]
    [InlineData("ec")]
    [InlineData("rsa")]
    public void Parse_EveryFixtureCertificate_SubjectIssuerAndSansEqualTheManifest(string keyType)
    {
        foreach (var (row, file) in CertificateFiles(keyType))
        {
            var certificate = OpensslScratch.LoadCertificate(file);

            Assert.Equal(row.Subject, certificate.Subject);
            Assert.Equal(row.Issuer, certificate.Issuer);
            var expectedSans = row.Sans.Length == 0
                ? []
                : row.Sans.Replace("IP Address:", "IP:", StringComparison.Ordinal).Split(", ");
            Assert.Equal(expectedSans, certificate.SubjectAlternativeNames);
        }
    }

    [Theory]
    [InlineData("ec")]
    [InlineData("rsa")]
    public void Parse_EveryFixtureCertificate_SerialAndDatesAsOpensslPrintsThem(string keyType)
    {
        foreach (var (_, file) in CertificateFiles(keyType))
        {
            var certificate = OpensslScratch.LoadCertificate(file);
            var notAfter = Openssl.Checked("x509", "-in", file, "-noout", "-enddate").Trim()["notAfter=".Length..];

            Assert.Equal(Openssl.Serial(file), certificate.SerialHex);
            Assert.Equal(ParseOpensslDate(notAfter), certificate.NotAfter);
            Assert.Equal(TimeSpan.Zero, certificate.NotAfter.Offset);
        }
    }

    [Fact]
    public void Parse_FixtureCertificates_CaFlagAndKeyIdentifiersAsOpensslShowsThem()
    {
        var ca = OpensslScratch.LoadCertificate(PkiFile("ec", "ca.crt"));
        var leaf = OpensslScratch.LoadCertificate(PkiFile("ec", "apiserver.crt"));

        Assert.True(ca.IsCa);
        Assert.True(ca.IsSelfIssued);
        Assert.False(leaf.IsCa);
        Assert.False(leaf.IsSelfIssued);
        Assert.Equal(OpensslKeyId(PkiFile("ec", "ca.crt"), "subjectKeyIdentifier"), ca.SubjectKeyIdentifier);
        Assert.Equal(OpensslKeyId(PkiFile("ec", "apiserver.crt"), "subjectKeyIdentifier"), leaf.SubjectKeyIdentifier);
        Assert.Equal(ca.SubjectKeyIdentifier, leaf.AuthorityKeyIdentifier);
    }

    [Fact]
    public void Parse_Certificate_FingerprintAndPemAsOpensslWritesThem()
    {
        var file = PkiFile("rsa", "apiserver.crt");
        var certificate = OpensslScratch.LoadCertificate(file);
        var fingerprint = Openssl.Checked("x509", "-in", file, "-noout", "-fingerprint", "-sha256").Trim();

        Assert.Equal(fingerprint[(fingerprint.IndexOf('=') + 1)..].Replace(":", "", StringComparison.Ordinal), certificate.Sha256Fingerprint);
        Assert.Equal(File.ReadAllText(file), certificate.ToPem());
    }

    [Fact]
    public void Parse_SansOfEveryKind_FormatsThemLikeTheDesignSays()
    {
        using var scratch = new OpensslScratch();
        var key = scratch.EcKey("k.key");
        var file = scratch.SelfSignedCa("c.crt", key, "/CN=sans",
            "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:2001:0db8:0:0:0:0:0:1,URI:spiffe://cluster.local/ns/a,email:ops@example.com");

        var certificate = OpensslScratch.LoadCertificate(file);

        Assert.Equal(
            ["DNS:localhost", "IP:127.0.0.1", "IP:2001:db8::1", "URI:spiffe://cluster.local/ns/a", "email:ops@example.com"],
            certificate.SubjectAlternativeNames);
    }

    [Theory]
    [InlineData("/C=DE/O=Jürgen, \"Co\"+OU=a=b;c/CN=x<y>#1 ")]
    [InlineData("/DC=local/DC=cluster/O=system:nodes/CN=system:node:worker-1")]
    [InlineData("/CN=#lead/emailAddress=ops@example.com/L=Zürich/ST=ZH")]
    public void Parse_UnusualSubjects_SubjectEqualsOpensslRfc2253(string subject)
    {
        using var scratch = new OpensslScratch();
        var key = scratch.EcKey("k.key");
        var file = scratch.SelfSignedCa("c.crt", key, subject);

        var certificate = OpensslScratch.LoadCertificate(file);

        Assert.Equal(Openssl.Subject(file)["subject=".Length..], certificate.Subject);
    }

    [Fact]
    public void Parse_CertificateWithoutExtensions_HasNoKeyIdentifiersAndIsNotCa()
    {
        using var scratch = new OpensslScratch();
        var key = scratch.EcKey("k.key");
        Openssl.Checked("req", "-new", "-key", key, "-subj", "/CN=plain", "-out", scratch.PathOf("c.csr"));
        Openssl.Checked("x509", "-req", "-in", scratch.PathOf("c.csr"), "-key", key, "-days", "2", "-out", scratch.PathOf("c.crt"));
        Assert.DoesNotContain("X509v3", Openssl.Text(scratch.PathOf("c.crt")), StringComparison.Ordinal);

        var certificate = OpensslScratch.LoadCertificate(scratch.PathOf("c.crt"));

        Assert.Null(certificate.SubjectKeyIdentifier);
        Assert.Null(certificate.AuthorityKeyIdentifier);
        Assert.False(certificate.IsCa);
        Assert.Empty(certificate.SubjectAlternativeNames);
        Assert.True(certificate.IsIssuedBy(certificate));
    }

    [Theory]
    [InlineData("ec")]
    [InlineData("rsa")]
    public void IsIssuedBy_TheSigningCa_True(string keyType)
    {
        var ca = OpensslScratch.LoadCertificate(PkiFile(keyType, "ca.crt"));
        var frontProxyCa = OpensslScratch.LoadCertificate(PkiFile(keyType, "front-proxy-ca.crt"));

        Assert.True(OpensslScratch.LoadCertificate(PkiFile(keyType, "apiserver.crt")).IsIssuedBy(ca));
        Assert.True(OpensslScratch.LoadCertificate(PkiFile(keyType, "front-proxy-client.crt")).IsIssuedBy(frontProxyCa));
        Assert.True(ca.IsIssuedBy(ca));
    }

    [Fact]
    public void IsIssuedBy_AnotherCa_False()
    {
        var leaf = OpensslScratch.LoadCertificate(PkiFile("ec", "apiserver.crt"));

        Assert.False(leaf.IsIssuedBy(OpensslScratch.LoadCertificate(PkiFile("ec", "front-proxy-ca.crt"))));
        Assert.False(leaf.IsIssuedBy(leaf));
    }

    [Fact]
    public void IsIssuedBy_CaWithSameNameButOtherKey_False()
    {
        // Both fixtures have a CA named CN=kubernetes; only the signature tells them apart.
        var leaf = OpensslScratch.LoadCertificate(PkiFile("ec", "apiserver.crt"));
        var otherCa = OpensslScratch.LoadCertificate(PkiFile("rsa", "ca.crt"));
        Assert.Equal(leaf.IssuerDer, otherCa.SubjectDer);

        Assert.False(leaf.IsIssuedBy(otherCa));
    }

    [Fact]
    public void IsIssuedBy_SameNameSameKeyIdButBadSignature_False()
    {
        var ca = OpensslScratch.LoadCertificate(PkiFile("ec", "ca.crt"));
        var der = OpensslScratch.LoadCertificate(PkiFile("ec", "apiserver.crt")).Der;
        der[^3] ^= 0x01; // inside the signature value

        var tampered = CertificateInfo.Parse(der, "tampered.crt");

        Assert.False(tampered.IsIssuedBy(ca));
    }

    [Fact]
    public void Parse_Garbage_ThrowsNamingTheFile()
    {
        var error = Assert.Throws<PkiException>(() =>
            CertificateInfo.Parse("not a certificate"u8, "/etc/kubernetes/pki/apiserver.crt"));

        Assert.StartsWith("/etc/kubernetes/pki/apiserver.crt: not a valid X.509 certificate", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_TruncatedDer_Throws()
    {
        var der = OpensslScratch.LoadCertificate(PkiFile("ec", "apiserver.crt")).Der;

        Assert.Throws<PkiException>(() => CertificateInfo.Parse(der.AsSpan(0, der.Length - 10), "apiserver.crt"));
    }

    private static byte[] OpensslKeyId(string file, string extension)
    {
        var lines = Openssl.Extension(file, extension).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return Convert.FromHexString(lines[1].Replace(":", "", StringComparison.Ordinal));
    }

    private static DateTimeOffset ParseOpensslDate(string text) =>
        DateTimeOffset.ParseExact(
            string.Join(' ', text.Split(' ', StringSplitOptions.RemoveEmptyEntries)), "MMM d HH:mm:ss yyyy 'GMT'",
            CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
}
