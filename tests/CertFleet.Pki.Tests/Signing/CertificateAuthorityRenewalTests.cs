using CertFleet.Pki.Signing;
using CertFleet.Pki.Tests.Certificates;
using CertFleet.Testing;
using Microsoft.Extensions.Time.Testing;

namespace CertFleet.Pki.Tests.Signing;

public sealed class CertificateAuthorityRenewalTests(SmallEcPkiFixture ec, SmallRsaPkiFixture rsa)
    : IClassFixture<SmallEcPkiFixture>, IClassFixture<SmallRsaPkiFixture>, IDisposable
{
    private static readonly TimeSpan TenYears = TimeSpan.FromDays(3650);
    private readonly OpensslScratch _scratch = new();

    public void Dispose() => _scratch.Dispose();

    private string PkiFile(string keyType, string name) =>
        Path.Combine((keyType == "ec" ? ec : (ClusterPkiFixture)rsa).NodeRoot("master-1"), "etc/kubernetes/pki", name);

    private CertificateAuthority Authority(string keyType) =>
        new(OpensslScratch.LoadCertificate(PkiFile(keyType, "ca.crt")), OpensslScratch.LoadKey(PkiFile(keyType, "ca.key")));

    [Theory]
    [InlineData("ec")]
    [InlineData("rsa")]
    public void RenewAuthority_FixtureCa_KeepsSubjectKeyIdentifierKeyAndExtensions(string keyType)
    {
        var now = DateTimeOffset.UtcNow;
        var oldFile = PkiFile(keyType, "ca.crt");

        var renewed = new CertificateIssuer(new FakeTimeProvider(now)).RenewAuthority(Authority(keyType), TenYears);
        var newFile = _scratch.SaveCertificate("new-ca.crt", renewed);

        Assert.Equal(OpensslScratch.LoadCertificate(oldFile).SubjectDer, renewed.SubjectDer);
        Assert.Equal(Openssl.Extension(oldFile, "subjectKeyIdentifier"), Openssl.Extension(newFile, "subjectKeyIdentifier"));
        Assert.Equal(Openssl.Extension(oldFile, "basicConstraints,keyUsage"), Openssl.Extension(newFile, "basicConstraints,keyUsage"));
        Assert.Equal(Openssl.PublicKey(oldFile), Openssl.PublicKey(newFile));
        Assert.NotEqual(Openssl.Serial(oldFile), Openssl.Serial(newFile));
        Assert.Equal(now.AddTicks(-(now.Ticks % TimeSpan.TicksPerSecond)).Add(TenYears), renewed.NotAfter);
        var self = Openssl.Verify(newFile, newFile);
        Assert.True(self.ExitCode == 0, self.Combined);
    }

    [Theory]
    [InlineData("ec")]
    [InlineData("rsa")]
    public void RenewAuthority_FixtureCa_OldLeavesVerifyAgainstTheNewCa(string keyType)
    {
        var newCa = _scratch.SaveCertificate("new-ca.crt",
            new CertificateIssuer(TimeProvider.System).RenewAuthority(Authority(keyType), TenYears));

        foreach (var leaf in new[] { "apiserver.crt", "etcd-peer.crt", "admin.crt" })
        {
            var result = Openssl.Verify(newCa, PkiFile(keyType, leaf));
            Assert.True(result.ExitCode == 0, leaf + ": " + result.Combined);
        }
    }

    [Fact]
    public void RenewAuthority_FixtureCa_LeafSignedByTheNewCaVerifiesAgainstTheOldCa()
    {
        var issuer = new CertificateIssuer(TimeProvider.System);
        var authority = Authority("ec");
        var newAuthority = authority with { Certificate = issuer.RenewAuthority(authority, TenYears) };
        using var key = OpensslScratch.LoadKey(PkiFile("ec", "apiserver.key"));
        var previous = OpensslScratch.LoadCertificate(PkiFile("ec", "apiserver.crt"));

        var leaf = issuer.Renew(CertificateRequestBuilder.FromExistingCertificate(previous, key), previous, newAuthority, TimeSpan.FromDays(365));

        var result = Openssl.Verify(PkiFile("ec", "ca.crt"), _scratch.SaveCertificate("new.crt", leaf));
        Assert.True(result.ExitCode == 0, result.Combined);
    }

    [Fact]
    public void RenewAuthority_Sha512CaMadeAsKubernetesTheHardWayDoes_KeepsSha512AndItsLeavesVerify()
    {
        var key = _scratch.RsaKey("ca.key");
        var ca = _scratch.SelfSignedCa("ca.crt", key, "/C=US/ST=Washington/L=Seattle/CN=CA", 3653, "sha512");
        var adminKey = _scratch.EcKey("admin.key");
        var admin = _scratch.Leaf("admin.crt", adminKey, "/CN=admin/O=system:masters", ca, key, 3653,
            "extendedKeyUsage = clientAuth", "authorityKeyIdentifier = keyid:always");

        var renewed = _scratch.SaveCertificate("new-ca.crt", new CertificateIssuer(TimeProvider.System)
            .RenewAuthority(new CertificateAuthority(OpensslScratch.LoadCertificate(ca), OpensslScratch.LoadKey(key)), TenYears));

        Assert.Contains("Signature Algorithm: sha512WithRSAEncryption", Openssl.Text(ca), StringComparison.Ordinal);
        Assert.Contains("Signature Algorithm: sha512WithRSAEncryption", Openssl.Text(renewed), StringComparison.Ordinal);
        Assert.DoesNotContain("sha256", Openssl.Text(renewed), StringComparison.Ordinal);
        var self = Openssl.Verify(renewed, renewed);
        Assert.True(self.ExitCode == 0, self.Combined);
        var leaf = Openssl.Verify(renewed, admin);
        Assert.True(leaf.ExitCode == 0, leaf.Combined);
    }

    [Fact]
    public void RenewAuthority_CfsslCaWithAHundredYearsLeftRenewedForTenYears_KeepsItsNotAfter()
    {
        var key = _scratch.EcKey("ca-key.pem");
        var ca = _scratch.SelfSignedCa("ca.pem", key, "/C=CN/O=k8s/CN=kubernetes", 36500, null);
        Assert.True(OpensslScratch.LoadCertificate(ca).NotAfter.Year > 2050);

        var renewed = _scratch.SaveCertificate("new-ca.pem", new CertificateIssuer(TimeProvider.System)
            .RenewAuthority(new CertificateAuthority(OpensslScratch.LoadCertificate(ca), OpensslScratch.LoadKey(key)), TenYears));

        Assert.Equal(Openssl.EndDate(ca), Openssl.EndDate(renewed));
        Assert.NotEqual(Openssl.Serial(ca), Openssl.Serial(renewed));
        var self = Openssl.Verify(renewed, renewed);
        Assert.True(self.ExitCode == 0, self.Combined);
    }

    [Fact]
    public void RenewAuthority_CaWithTwentyDaysLeftRenewedFor3650Days_EndsThatLongFromNow()
    {
        var now = DateTimeOffset.UtcNow;
        now = now.AddTicks(-(now.Ticks % TimeSpan.TicksPerSecond));
        var key = _scratch.EcKey("ca.key");
        var ca = _scratch.SelfSignedCa("ca.crt", key, "/CN=twenty-days", 20, null);

        var renewed = _scratch.SaveCertificate("new-ca.crt", new CertificateIssuer(new FakeTimeProvider(now))
            .RenewAuthority(new CertificateAuthority(OpensslScratch.LoadCertificate(ca), OpensslScratch.LoadKey(key)), TimeSpan.FromDays(3650)));

        Assert.Equal(Openssl.EndDateOf(now.AddDays(3650)), Openssl.EndDate(renewed));
    }

    [Fact]
    public void RenewAuthority_P256CaSignedWithSha384_KeepsEcdsaWithSha384()
    {
        var key = _scratch.EcKey("ca.key");
        var ca = _scratch.SelfSignedCa("ca.crt", key, "/CN=p256-sha384", 30, "sha384");

        var renewed = _scratch.SaveCertificate("new-ca.crt", new CertificateIssuer(TimeProvider.System)
            .RenewAuthority(new CertificateAuthority(OpensslScratch.LoadCertificate(ca), OpensslScratch.LoadKey(key)), TenYears));

        Assert.Contains("Signature Algorithm: ecdsa-with-SHA384", Openssl.Text(renewed), StringComparison.Ordinal);
        var self = Openssl.Verify(renewed, renewed);
        Assert.True(self.ExitCode == 0, self.Combined);
    }

    [Fact]
    public void RenewAuthority_RsaSignedOriginalOfAnEcKey_SignsWithTheEcKeysDefault()
    {
        // Only a test makes this: a CA certificate whose names say self-issued, carrying a P-384 key, but signed
        // sha512WithRSA by another key. sha512WithRSA cannot be made with an EC key.
        var rsaKey = _scratch.RsaKey("rsa-ca.key");
        var rsaCa = _scratch.SelfSignedCa("rsa-ca.crt", rsaKey, "/CN=cross-type");
        var ecKey = _scratch.EcKey("ca.key", "secp384r1");
        var ca = _scratch.LeafSignedWith("sha512", "ca.crt", ecKey, "/CN=cross-type", rsaCa, rsaKey, 30,
            "basicConstraints = critical, CA:TRUE", "keyUsage = critical, keyCertSign, cRLSign", "subjectKeyIdentifier = hash");
        Assert.Contains("Signature Algorithm: sha512WithRSAEncryption", Openssl.Text(ca), StringComparison.Ordinal);

        var renewed = _scratch.SaveCertificate("new-ca.crt", new CertificateIssuer(TimeProvider.System)
            .RenewAuthority(new CertificateAuthority(OpensslScratch.LoadCertificate(ca), OpensslScratch.LoadKey(ecKey)), TenYears));

        Assert.Contains("Signature Algorithm: ecdsa-with-SHA384", Openssl.Text(renewed), StringComparison.Ordinal);
        var self = Openssl.Verify(renewed, renewed);
        Assert.True(self.ExitCode == 0, self.Combined);
    }

    [Fact]
    public void RenewAuthority_CaWithSelfAuthorityKeyIdentifier_KeepsItAsKeyIdOnly()
    {
        var key = _scratch.EcKey("ca.key");
        var old = _scratch.SelfSignedCa("ca.crt", key, "/CN=self-aki", "subjectKeyIdentifier=hash",
            "authorityKeyIdentifier=keyid:always,issuer:always");
        Assert.Contains("serial:", Openssl.Extension(old, "authorityKeyIdentifier"), StringComparison.OrdinalIgnoreCase);
        var authority = new CertificateAuthority(OpensslScratch.LoadCertificate(old), OpensslScratch.LoadKey(key));

        var renewed = new CertificateIssuer(TimeProvider.System).RenewAuthority(authority, TenYears);
        var newFile = _scratch.SaveCertificate("new-ca.crt", renewed);

        Assert.Equal(authority.Certificate.SubjectKeyIdentifier, renewed.AuthorityKeyIdentifier);
        Assert.DoesNotContain("serial:", Openssl.Extension(newFile, "authorityKeyIdentifier"), StringComparison.OrdinalIgnoreCase);
        Assert.True(Openssl.Verify(newFile, newFile).ExitCode == 0);
    }

    [Fact]
    public void RenewAuthority_LeafCertificate_RefusedAsNotACa()
    {
        var authority = new CertificateAuthority(
            OpensslScratch.LoadCertificate(PkiFile("ec", "apiserver.crt")), OpensslScratch.LoadKey(PkiFile("ec", "apiserver.key")));

        var error = Assert.Throws<PkiException>(() => new CertificateIssuer(TimeProvider.System).RenewAuthority(authority, TenYears));

        Assert.Contains("is not a CA certificate", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RenewAuthority_IntermediateCa_RefusedAsNotSelfIssued()
    {
        var key = _scratch.EcKey("intermediate.key");
        var intermediate = _scratch.Leaf("intermediate.crt", key, "/CN=intermediate", PkiFile("ec", "ca.crt"), PkiFile("ec", "ca.key"), 10,
            "basicConstraints = critical, CA:TRUE", "keyUsage = critical, keyCertSign");
        var authority = new CertificateAuthority(OpensslScratch.LoadCertificate(intermediate), OpensslScratch.LoadKey(key));

        var error = Assert.Throws<PkiException>(() => new CertificateIssuer(TimeProvider.System).RenewAuthority(authority, TenYears));

        Assert.Contains("not by itself", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RenewAuthority_KeyOfAnotherCa_Refused()
    {
        var authority = Authority("ec") with { Key = OpensslScratch.LoadKey(PkiFile("ec", "front-proxy-ca.key")) };

        var error = Assert.Throws<PkiException>(() => new CertificateIssuer(TimeProvider.System).RenewAuthority(authority, TenYears));

        Assert.Contains("does not belong to the CA certificate", error.Message, StringComparison.Ordinal);
    }
}
