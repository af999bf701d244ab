using System.Globalization;
using System.Numerics;
using CertFleet.Pki.Certificates;
using CertFleet.Pki.PemEncoding;
using CertFleet.Pki.Signing;
using CertFleet.Pki.Tests.Certificates;
using CertFleet.Testing;
using Microsoft.Extensions.Time.Testing;

namespace CertFleet.Pki.Tests.Signing;

public sealed class CertificateIssuerTests(SmallEcPkiFixture ec, SmallRsaPkiFixture rsa)
    : IClassFixture<SmallEcPkiFixture>, IClassFixture<SmallRsaPkiFixture>, IDisposable
{
    private static readonly TimeSpan OneYear = TimeSpan.FromDays(365);
    private readonly OpensslScratch _scratch = new();

    public void Dispose() => _scratch.Dispose();

    private string PkiFile(string keyType, string name, string node = "master-1") =>
        Path.Combine((keyType == "ec" ? ec : (ClusterPkiFixture)rsa).NodeRoot(node), "etc/kubernetes/pki", name);

    private CertificateAuthority Authority(string keyType, string name = "ca") =>
        new(OpensslScratch.LoadCertificate(PkiFile(keyType, name + ".crt")), OpensslScratch.LoadKey(PkiFile(keyType, name + ".key")));

    private static byte[] RequestFor(string certificateFile, string keyFile)
    {
        using var key = OpensslScratch.LoadKey(keyFile);
        return CertificateRequestBuilder.FromExistingCertificate(OpensslScratch.LoadCertificate(certificateFile), key);
    }

    private CertificateInfo RenewFixtureLeaf(string keyType, string name, TimeProvider? time = null, TimeSpan? validity = null,
        string node = "master-1")
    {
        var previous = OpensslScratch.LoadCertificate(PkiFile(keyType, name + ".crt", node));
        var csr = RequestFor(PkiFile(keyType, name + ".crt", node), PkiFile(keyType, name + ".key", node));
        return new CertificateIssuer(time ?? TimeProvider.System).Renew(csr, previous, Authority(keyType), validity ?? OneYear);
    }

    private byte[] OpensslRequest(string keyFile, string subject, params string[] addext)
    {
        var arguments = new List<string> { "req", "-new", "-key", keyFile, "-subj", subject, "-outform", "DER", "-out", _scratch.PathOf("o.csr") };
        foreach (var extension in addext)
        {
            arguments.AddRange(["-addext", extension]);
        }
        Openssl.Checked([.. arguments]);
        return File.ReadAllBytes(_scratch.PathOf("o.csr"));
    }

    [Theory]
    [InlineData("ec", "ecdsa-with-SHA256")]
    [InlineData("rsa", "sha256WithRSAEncryption")]
    public void Renew_FixtureLeaf_OpensslVerifiesItAgainstTheCa(string keyType, string signatureAlgorithm)
    {
        var renewed = _scratch.SaveCertificate("new.crt", RenewFixtureLeaf(keyType, "apiserver"));

        var result = Openssl.Verify(PkiFile(keyType, "ca.crt"), renewed);

        Assert.True(result.ExitCode == 0, result.Combined);
        Assert.Contains("Signature Algorithm: " + signatureAlgorithm, Openssl.Text(renewed), StringComparison.Ordinal);
        Assert.Contains("Version: 3 (0x2)", Openssl.Text(renewed), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ec", "apiserver")]
    [InlineData("rsa", "etcd-peer")]
    [InlineData("ec", "apiserver-kubelet-client")]
    public void Renew_FixtureLeaf_KeepsSubjectNamesUsagesAndKey(string keyType, string name)
    {
        var old = PkiFile(keyType, name + ".crt");
        var renewed = _scratch.SaveCertificate("new.crt", RenewFixtureLeaf(keyType, name));
        var oldText = Openssl.Text(old);
        var newText = Openssl.Text(renewed);

        Assert.Equal(OpensslScratch.LoadCertificate(old).SubjectDer, OpensslScratch.LoadCertificate(renewed).SubjectDer);
        Assert.Equal(Openssl.Subject(old), Openssl.Subject(renewed));
        Assert.Equal(Openssl.PublicKey(old), Openssl.PublicKey(renewed));
        foreach (var extension in new[] { "Subject Alternative Name", "Key Usage", "Extended Key Usage", "Basic Constraints", "Subject Key Identifier" })
        {
            Assert.Equal(CertificateRequestTests.ExtensionBlock(oldText, extension), CertificateRequestTests.ExtensionBlock(newText, extension));
        }
        Assert.NotNull(CertificateRequestTests.ExtensionBlock(newText, "Extended Key Usage"));
    }

    [Fact]
    public void Renew_FixtureLeaf_AuthorityKeyIdentifierIsTheCasSubjectKeyIdentifier()
    {
        var renewed = _scratch.SaveCertificate("new.crt", RenewFrontProxyClient());

        var aki = Openssl.Extension(renewed, "authorityKeyIdentifier");
        var caSki = Openssl.Extension(PkiFile("ec", "front-proxy-ca.crt"), "subjectKeyIdentifier");

        Assert.Equal(caSki.Split('\n')[1].Trim(), aki.Split('\n')[1].Trim());
        Assert.Equal(OpensslScratch.LoadCertificate(PkiFile("ec", "front-proxy-ca.crt")).SubjectKeyIdentifier,
            OpensslScratch.LoadCertificate(renewed).AuthorityKeyIdentifier);
    }

    private CertificateInfo RenewFrontProxyClient()
    {
        var previous = OpensslScratch.LoadCertificate(PkiFile("ec", "front-proxy-client.crt"));
        var csr = RequestFor(PkiFile("ec", "front-proxy-client.crt"), PkiFile("ec", "front-proxy-client.key"));
        return new CertificateIssuer(TimeProvider.System).Renew(csr, previous, Authority("ec", "front-proxy-ca"), OneYear);
    }

    [Fact]
    public void Renew_FixtureLeaf_SerialIsNewPositiveAndAtLeast64Bits()
    {
        var old = Openssl.Serial(PkiFile("ec", "admin.crt"));
        var first = Openssl.Serial(_scratch.SaveCertificate("first.crt", RenewFixtureLeaf("ec", "admin")));
        var second = Openssl.Serial(_scratch.SaveCertificate("second.crt", RenewFixtureLeaf("ec", "admin")));

        var value = BigInteger.Parse("0" + first, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        Assert.NotEqual(old, first);
        Assert.NotEqual(first, second);
        Assert.True(value.Sign > 0);
        Assert.True(value.GetBitLength() >= 64, $"serial {first} has only {value.GetBitLength()} bits");
    }

    [Fact]
    public void Renew_WithClock_ValidFromFiveMinutesAgoForTheGivenValidity()
    {
        var now = new DateTimeOffset(2027, 3, 4, 5, 6, 7, TimeSpan.Zero);

        var renewed = RenewFixtureLeaf("ec", "kube-scheduler", new FakeTimeProvider(now), TimeSpan.FromDays(90));

        Assert.Equal(now.AddMinutes(-5), renewed.NotBefore);
        Assert.Equal(now.AddDays(90), renewed.NotAfter);
    }

    [Fact]
    public void Renew_ValidityBeyondTheCasNotAfter_IsNotCapped()
    {
        var ca = OpensslScratch.LoadCertificate(PkiFile("ec", "ca.crt"));

        var renewed = _scratch.SaveCertificate("new.crt", RenewFixtureLeaf("ec", "kube-proxy", validity: TimeSpan.FromDays(3650)));

        var notAfter = OpensslScratch.LoadCertificate(renewed).NotAfter;
        Assert.True(notAfter > ca.NotAfter.AddYears(9), $"notAfter {notAfter:O}, CA notAfter {ca.NotAfter:O}");
        Assert.Contains(notAfter.Year.ToString(CultureInfo.InvariantCulture),
            Openssl.Checked("x509", "-in", renewed, "-noout", "-enddate"), StringComparison.Ordinal);
    }

    [Fact]
    public void Renew_AfterYear2050_WritesGeneralizedTimeThatOpensslReads()
    {
        var renewed = _scratch.SaveCertificate("new.crt",
            RenewFixtureLeaf("ec", "kube-proxy", validity: TimeSpan.FromDays(365 * 40)));

        Assert.Equal(OpensslScratch.LoadCertificate(renewed).NotAfter.Year.ToString(CultureInfo.InvariantCulture),
            Openssl.Checked("x509", "-in", renewed, "-noout", "-enddate").Trim()[^8..^4]);
    }

    [Theory]
    [InlineData("ec")]
    [InlineData("rsa")]
    public void Renew_ExpiredLeaf_RenewsAndOpensslVerifiesTheNewOne(string keyType)
    {
        var oldFile = PkiFile(keyType, "worker-1.crt", "worker-1");
        Assert.True(OpensslScratch.LoadCertificate(oldFile).NotAfter < DateTimeOffset.UtcNow);
        Assert.NotEqual(0, Openssl.Verify(PkiFile(keyType, "ca.crt"), oldFile).ExitCode);

        var renewed = _scratch.SaveCertificate("new.crt", RenewFixtureLeaf(keyType, "worker-1", node: "worker-1"));

        var result = Openssl.Verify(PkiFile(keyType, "ca.crt"), renewed);
        Assert.True(result.ExitCode == 0, result.Combined);
    }

    [Fact]
    public void Renew_SubjectMixingPrintableAndUtf8Strings_KeepsEveryStringType()
    {
        var caKey = _scratch.EcKey("ca.key");
        var ca = _scratch.SelfSignedCa("ca.crt", caKey, "/C=DE/O=Bäckerei Müller/CN=mixed-ca", "subjectKeyIdentifier=hash");
        var key = _scratch.EcKey("leaf.key");
        var leaf = _scratch.Leaf("leaf.crt", key, "/C=DE/ST=Bayern/O=Bäckerei Müller+OU=ops/CN=kube-apiserver", ca, caKey, 10,
            "basicConstraints = critical, CA:FALSE", "keyUsage = critical, digitalSignature", "extendedKeyUsage = serverAuth",
            "subjectAltName = DNS:mixed.example, IP:2001:db8::7, URI:spiffe://x/y, email:a@b.example",
            "subjectKeyIdentifier = hash", "authorityKeyIdentifier = keyid:always");
        var previous = OpensslScratch.LoadCertificate(leaf);
        var authority = new CertificateAuthority(OpensslScratch.LoadCertificate(ca), OpensslScratch.LoadKey(caKey));

        var renewed = _scratch.SaveCertificate("new.crt",
            new CertificateIssuer(TimeProvider.System).Renew(RequestFor(leaf, key), previous, authority, OneYear));

        string Typed(string file) => Openssl.Checked("x509", "-in", file, "-noout", "-subject", "-nameopt", "RFC2253,show_type");
        Assert.Contains("PRINTABLESTRING", Typed(leaf), StringComparison.Ordinal);
        Assert.Contains("UTF8STRING", Typed(leaf), StringComparison.Ordinal);
        Assert.Equal(Typed(leaf), Typed(renewed));
        Assert.Equal(previous.SubjectDer, OpensslScratch.LoadCertificate(renewed).SubjectDer);
        Assert.Equal(CertificateRequestTests.ExtensionBlock(Openssl.Text(leaf), "Subject Alternative Name"),
            CertificateRequestTests.ExtensionBlock(Openssl.Text(renewed), "Subject Alternative Name"));
        Assert.True(Openssl.Verify(ca, renewed).ExitCode == 0);
    }

    [Theory]
    [InlineData("sha384", "ecdsa-with-SHA384")]
    [InlineData(null, "ecdsa-with-SHA256")] // openssl's default digest, whatever the curve
    public void Renew_LeafOfAP384Ca_KeepsTheAlgorithmItWasSignedWith(string? digest, string signatureAlgorithm)
    {
        var caKey = _scratch.EcKey("ca.key", "secp384r1");
        var ca = _scratch.SelfSignedCa("ca.crt", caKey, "/CN=p384-ca", "subjectKeyIdentifier=hash");
        var key = _scratch.EcKey("leaf.key");
        var leaf = _scratch.LeafSignedWith(digest, "leaf.crt", key, "/CN=leaf", ca, caKey, 10, "extendedKeyUsage = clientAuth");
        var authority = new CertificateAuthority(OpensslScratch.LoadCertificate(ca), OpensslScratch.LoadKey(caKey));

        var renewed = _scratch.SaveCertificate("new.crt", new CertificateIssuer(TimeProvider.System)
            .Renew(RequestFor(leaf, key), OpensslScratch.LoadCertificate(leaf), authority, OneYear));

        Assert.Contains("Signature Algorithm: " + signatureAlgorithm, Openssl.Text(leaf), StringComparison.Ordinal);
        Assert.Contains("Signature Algorithm: " + signatureAlgorithm, Openssl.Text(renewed), StringComparison.Ordinal);
        var result = Openssl.Verify(ca, renewed);
        Assert.True(result.ExitCode == 0, result.Combined);
    }

    [Fact]
    public void Renew_LeafIssuedSha512ByTheFixtureCa_StaysSha512()
    {
        var key = _scratch.EcKey("scheduler.key");
        var leaf = _scratch.LeafSignedWith("sha512", "scheduler.crt", key, "/CN=system:kube-scheduler", PkiFile("rsa", "ca.crt"),
            PkiFile("rsa", "ca.key"), 10, "extendedKeyUsage = clientAuth", "authorityKeyIdentifier = keyid:always");

        var renewed = _scratch.SaveCertificate("new.crt", new CertificateIssuer(TimeProvider.System)
            .Renew(RequestFor(leaf, key), OpensslScratch.LoadCertificate(leaf), Authority("rsa"), OneYear));

        Assert.Contains("Signature Algorithm: sha512WithRSAEncryption", Openssl.Text(renewed), StringComparison.Ordinal);
        var result = Openssl.Verify(PkiFile("rsa", "ca.crt"), renewed);
        Assert.True(result.ExitCode == 0, result.Combined);
    }

    [Fact]
    public void Renew_IntermediateCaWithAHundredYearsLeftRenewedForTenYears_KeepsItsNotAfter()
    {
        var key = _scratch.EcKey("intermediate.key");
        var intermediate = _scratch.Leaf("intermediate.crt", key, "/CN=etcd-ca", PkiFile("ec", "ca.crt"), PkiFile("ec", "ca.key"), 36500,
            "basicConstraints = critical, CA:TRUE", "keyUsage = critical, keyCertSign, cRLSign", "subjectKeyIdentifier = hash",
            "authorityKeyIdentifier = keyid:always");

        var renewed = _scratch.SaveCertificate("new.crt", new CertificateIssuer(TimeProvider.System)
            .Renew(RequestFor(intermediate, key), OpensslScratch.LoadCertificate(intermediate), Authority("ec"), TimeSpan.FromDays(3650)));

        Assert.Equal(Openssl.EndDate(intermediate), Openssl.EndDate(renewed));
        var result = Openssl.Verify(PkiFile("ec", "ca.crt"), renewed);
        Assert.True(result.ExitCode == 0, result.Combined);
    }

    [Fact]
    public void Renew_RequestMadeByOpensslX509ToReq_IsAccepted()
    {
        var certificate = PkiFile("rsa", "apiserver.crt");
        Openssl.Checked("x509", "-x509toreq", "-in", certificate, "-signkey", PkiFile("rsa", "apiserver.key"),
            "-copy_extensions", "copyall", "-out", _scratch.PathOf("x.csr"));
        var csr = Assert.Single(Pem.Read(File.ReadAllText(_scratch.PathOf("x.csr")), "x.csr")).Der;

        var renewed = new CertificateIssuer(TimeProvider.System).Renew(csr,
            OpensslScratch.LoadCertificate(certificate), Authority("rsa"), OneYear);

        Assert.True(Openssl.Verify(PkiFile("rsa", "ca.crt"), _scratch.SaveCertificate("new.crt", renewed)).ExitCode == 0);
    }

    [Fact]
    public void Renew_RequestForAnotherSubject_RefusedNamingTheSubject()
    {
        var csr = OpensslRequest(PkiFile("ec", "apiserver.key"), "/CN=kube-apiserver/O=system:masters");

        var error = Assert.Throws<PkiException>(() => Renew("apiserver", csr));

        Assert.Contains("refused", error.Message, StringComparison.Ordinal);
        Assert.Contains("subject 'O=system:masters,CN=kube-apiserver'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Renew_RequestWithAnExtraSan_RefusedNamingTheNames()
    {
        var sans = string.Join(",", OpensslScratch.LoadCertificate(PkiFile("ec", "apiserver.crt")).SubjectAlternativeNames);
        var csr = OpensslRequest(PkiFile("ec", "apiserver.key"), "/CN=kube-apiserver", $"subjectAltName={sans},DNS:evil.example");

        var error = Assert.Throws<PkiException>(() => Renew("apiserver", csr));

        Assert.Contains("subjectAltName", error.Message, StringComparison.Ordinal);
        Assert.Contains("DNS:evil.example", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Renew_RequestWithAnotherKey_Refused()
    {
        var csr = OpensslRequest(_scratch.EcKey("other.key"), "/CN=kube-apiserver");

        var error = Assert.Throws<PkiException>(() => Renew("apiserver", csr));

        Assert.Contains("different public key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Renew_RequestAskingForCaTrue_Refused()
    {
        var csr = OpensslRequest(PkiFile("ec", "kube-scheduler.key"), "/CN=system:kube-scheduler",
            "basicConstraints=critical,CA:TRUE");

        var error = Assert.Throws<PkiException>(() => Renew("kube-scheduler", csr));

        Assert.Contains("CA:TRUE", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Renew_RequestAskingForNoUsages_GetsTheCertificatesOwn()
    {
        // asking for nothing is not asking for something else: the renewal is made from the certificate
        var csr = OpensslRequest(PkiFile("ec", "kube-scheduler.key"), "/CN=system:kube-scheduler");

        var renewed = _scratch.SaveCertificate("new.crt", Renew("kube-scheduler", csr));

        foreach (var extension in new[] { "Key Usage", "Extended Key Usage", "Basic Constraints" })
        {
            Assert.Equal(CertificateRequestTests.ExtensionBlock(Openssl.Text(PkiFile("ec", "kube-scheduler.crt")), extension),
                CertificateRequestTests.ExtensionBlock(Openssl.Text(renewed), extension));
        }
    }

    [Theory]
    [InlineData("ec")]
    [InlineData("rsa")]
    public void Renew_RequestMadeByOpensslX509ToReqWithoutExtensions_KeepsTheCertificatesNamesAndUsages(string keyType)
    {
        // the runbook's command as OpenSSL 3 runs it by default (-copy_extensions none): no SAN, no usages requested
        var certificate = PkiFile(keyType, "apiserver.crt");
        Openssl.Checked("x509", "-x509toreq", "-in", certificate, "-signkey", PkiFile(keyType, "apiserver.key"), "-out", _scratch.PathOf("x.csr"));
        Assert.DoesNotContain("X509v3", Openssl.Checked("req", "-in", _scratch.PathOf("x.csr"), "-noout", "-text"), StringComparison.Ordinal);
        var csr = Assert.Single(Pem.Read(File.ReadAllText(_scratch.PathOf("x.csr")), "x.csr")).Der;

        var renewed = _scratch.SaveCertificate("new.crt", new CertificateIssuer(TimeProvider.System).Renew(csr,
            OpensslScratch.LoadCertificate(certificate), Authority(keyType), OneYear));

        foreach (var extension in new[] { "Subject Alternative Name", "Key Usage", "Extended Key Usage", "Basic Constraints" })
        {
            Assert.Equal(CertificateRequestTests.ExtensionBlock(Openssl.Text(certificate), extension),
                CertificateRequestTests.ExtensionBlock(Openssl.Text(renewed), extension));
        }
        Assert.NotNull(CertificateRequestTests.ExtensionBlock(Openssl.Text(renewed), "Subject Alternative Name"));
        Assert.True(Openssl.Verify(PkiFile(keyType, "ca.crt"), renewed).ExitCode == 0);
    }

    [Fact]
    public void Renew_RequestAskingForAnExtensionTheCertificateLacks_RefusedNamingIt()
    {
        // a renewal never carries what the request asks for beyond the certificate, so asking is refused, not dropped
        var csr = OpensslRequest(PkiFile("ec", "kube-scheduler.key"), "/CN=system:kube-scheduler", "nsComment=more please");

        var error = Assert.Throws<PkiException>(() => Renew("kube-scheduler", csr));

        Assert.Contains("2.16.840.1.113730.1.13", error.Message, StringComparison.Ordinal);
        Assert.Contains("a renewal keeps names and usages", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Renew_RequestWithABadSignature_Refused()
    {
        var csr = RequestFor(PkiFile("ec", "apiserver.crt"), PkiFile("ec", "apiserver.key"));
        csr[^4] ^= 0x10;

        var error = Assert.Throws<PkiException>(() => Renew("apiserver", csr));

        Assert.Contains("signature does not verify", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Renew_CertificateOfAnotherCa_Refused()
    {
        var csr = RequestFor(PkiFile("ec", "front-proxy-client.crt"), PkiFile("ec", "front-proxy-client.key"));

        var error = Assert.Throws<PkiException>(() => new CertificateIssuer(TimeProvider.System).Renew(
            csr, OpensslScratch.LoadCertificate(PkiFile("ec", "front-proxy-client.crt")), Authority("ec"), OneYear));

        Assert.Contains("not issued by the CA 'CN=kubernetes'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Renew_CaKeyThatIsNotTheCertificatesKey_Refused()
    {
        var csr = RequestFor(PkiFile("ec", "apiserver.crt"), PkiFile("ec", "apiserver.key"));
        var authority = Authority("ec") with { Key = OpensslScratch.LoadKey(PkiFile("ec", "front-proxy-ca.key")) };

        var error = Assert.Throws<PkiException>(() => new CertificateIssuer(TimeProvider.System).Renew(
            csr, OpensslScratch.LoadCertificate(PkiFile("ec", "apiserver.crt")), authority, OneYear));

        Assert.Contains("does not belong to the CA certificate", error.Message, StringComparison.Ordinal);
    }

    private CertificateInfo Renew(string name, byte[] csr) =>
        new CertificateIssuer(TimeProvider.System).Renew(csr, OpensslScratch.LoadCertificate(PkiFile("ec", name + ".crt")),
            Authority("ec"), OneYear);
}
