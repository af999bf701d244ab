using CertFleet.Pki.Rekey;
using CertFleet.Pki.Signing;
using CertFleet.Pki.Tests.Certificates;
using CertFleet.Testing;

namespace CertFleet.Pki.Tests.Rekey;

public sealed class NewAuthorityTests(SmallEcPkiFixture ec, SmallRsaPkiFixture rsa)
    : IClassFixture<SmallEcPkiFixture>, IClassFixture<SmallRsaPkiFixture>, IDisposable
{
    private static readonly NewAuthorityRequest TenYears = new(TimeSpan.FromDays(3650));
    private readonly OpensslScratch _scratch = new();

    public void Dispose() => _scratch.Dispose();

    private string PkiFile(string keyType, string name) =>
        Path.Combine((keyType == "ec" ? ec : (ClusterPkiFixture)rsa).NodeRoot("master-1"), "etc/kubernetes/pki", name);

    [Theory]
    [InlineData("ec", "ECDSA P-256")]
    [InlineData("rsa", "RSA 2048")]
    public void Create_FixtureCa_IsACaOfTheSameSubjectAndKeyTypeWithANewKey(string keyType, string description)
    {
        var oldFile = PkiFile(keyType, "ca.crt");
        using var created = NewAuthority.Create(OpensslScratch.LoadCertificate(oldFile), TenYears, TimeProvider.System);
        var newFile = _scratch.SaveCertificate("new-ca.crt", created.Certificate);

        Assert.Equal(description, created.Key.Description);
        Assert.Equal(Openssl.Subject(oldFile), Openssl.Subject(newFile));
        Assert.NotEqual(Openssl.PublicKey(oldFile), Openssl.PublicKey(newFile));
        Assert.NotEqual(Openssl.Extension(oldFile, "subjectKeyIdentifier"), Openssl.Extension(newFile, "subjectKeyIdentifier"));
        var text = Openssl.Text(newFile);
        Assert.Contains("CA:TRUE", text, StringComparison.Ordinal);
        Assert.Contains("Certificate Sign", text, StringComparison.Ordinal);
        var self = Openssl.Verify(newFile, newFile);
        Assert.True(self.ExitCode == 0, self.Combined);
        // the key file the coordinator writes is one openssl reads and that belongs to the certificate
        var keyFile = _scratch.WriteText("new-ca.key", created.KeyPem);
        Assert.Equal(Openssl.PublicKey(newFile), Openssl.Checked("pkey", "-in", keyFile, "-pubout"));
    }

    [Theory]
    [InlineData("ec")]
    [InlineData("rsa")]
    public void RenewUnder_FixtureLeafWithItsOwnKey_VerifiesAgainstTheNewCaAndNotTheOld(string keyType)
    {
        var oldAuthority = new CertificateAuthority(OpensslScratch.LoadCertificate(PkiFile(keyType, "ca.crt")),
            OpensslScratch.LoadKey(PkiFile(keyType, "ca.key")));
        using var created = NewAuthority.Create(oldAuthority.Certificate, TenYears, TimeProvider.System);
        var newCa = _scratch.SaveCertificate("new-ca.crt", created.Certificate);

        foreach (var name in new[] { "apiserver", "etcd-peer", "admin" })
        {
            var previous = OpensslScratch.LoadCertificate(PkiFile(keyType, name + ".crt"));
            using var key = OpensslScratch.LoadKey(PkiFile(keyType, name + ".key"));
            var issued = IssuedCertificate.Find(previous, [oldAuthority])!;
            var request = RenewalRequest.Read(CertificateRequestBuilder.FromExistingCertificate(previous, key), issued);

            var leaf = _scratch.SaveCertificate(name + ".crt",
                new CertificateIssuer(TimeProvider.System).RenewUnder(request, created.Authority, TimeSpan.FromDays(365)));

            var underNew = Openssl.Verify(newCa, leaf);
            Assert.True(underNew.ExitCode == 0, name + ": " + underNew.Combined);
            Assert.NotEqual(0, Openssl.Verify(PkiFile(keyType, "ca.crt"), leaf).ExitCode);
            Assert.Equal(Openssl.PublicKey(PkiFile(keyType, name + ".crt")), Openssl.PublicKey(leaf));
            Assert.Equal(Openssl.Subject(PkiFile(keyType, name + ".crt")), Openssl.Subject(leaf));
            Assert.Equal(Openssl.Extension(PkiFile(keyType, name + ".crt"), "subjectAltName,extendedKeyUsage"),
                Openssl.Extension(leaf, "subjectAltName,extendedKeyUsage"));
        }
    }

    [Fact]
    public void Create_Sha512CaAsKubernetesTheHardWayMakesIt_KeepsSha512()
    {
        var key = _scratch.RsaKey("ca.key", 4096);
        var ca = _scratch.SelfSignedCa("ca.crt", key, "/C=US/ST=Washington/L=Seattle/CN=CA", 3653, "sha512");

        using var created = NewAuthority.Create(OpensslScratch.LoadCertificate(ca), TenYears, TimeProvider.System);

        var text = Openssl.Text(_scratch.SaveCertificate("new-ca.crt", created.Certificate));
        Assert.Contains("Signature Algorithm: sha512WithRSAEncryption", text, StringComparison.Ordinal);
        Assert.Equal("RSA 4096", created.Key.Description);
    }

    [Fact]
    public void Create_GivenSubjectAndKeyType_UsesThem()
    {
        var key = _scratch.RsaKey("ca.key");
        var ca = _scratch.SelfSignedCa("ca.crt", key, "/CN=kubernetes");

        using var created = NewAuthority.Create(OpensslScratch.LoadCertificate(ca),
            TenYears with { Subject = "CN=kubernetes-2026,O=ops", KeyType = AuthorityKeyType.Parse("ec:P-384") }, TimeProvider.System);

        var file = _scratch.SaveCertificate("new-ca.crt", created.Certificate);
        Assert.Equal("ECDSA P-384", created.Key.Description);
        Assert.Contains("CN=kubernetes-2026", Openssl.Subject(file), StringComparison.Ordinal);
        Assert.Equal(0, Openssl.Verify(file, file).ExitCode);
    }

    [Fact]
    public void Create_SubjectInOpensslForm_EncodedInTheOrderWritten()
    {
        var key = _scratch.RsaKey("ca-openssl-form.key");
        var ca = _scratch.SelfSignedCa("ca-openssl-form.crt", key, "/CN=kubernetes");

        using var created = NewAuthority.Create(OpensslScratch.LoadCertificate(ca), TenYears with { Subject = "/O=ops/CN=kubernetes-2026" }, TimeProvider.System);

        var file = _scratch.SaveCertificate("new-ca-openssl-form.crt", created.Certificate);
        Assert.Equal("O=ops, CN=kubernetes-2026", Openssl.Checked("x509", "-in", file, "-noout", "-subject", "-nameopt", "sep_comma_plus_space").Trim()["subject=".Length..]);
        Assert.Throws<PkiException>(() => NewAuthority.Create(OpensslScratch.LoadCertificate(ca), TenYears with { Subject = "/O=ops//CN=x" }, TimeProvider.System));
    }

    [Theory]
    [InlineData("rsa:4096", "rsa:2048", "RSA 2048", "RSA 4096")]
    [InlineData("ec:P-384", "ec:P-256", "ECDSA P-256", "ECDSA P-384")]
    [InlineData("ec:P-384", "rsa:3072", "RSA 3072", "ECDSA P-384")]
    public void Create_WeakerKeyType_IsRefusedNamingBothKeysAndAllowWeaker(string oldType, string newType, string newWords, string oldWords)
    {
        var old = OldCa(oldType);

        var refused = Assert.Throws<PkiException>(() =>
            NewAuthority.Create(old, TenYears with { KeyType = AuthorityKeyType.Parse(newType) }, TimeProvider.System));

        Assert.Contains(newWords, refused.Message, StringComparison.Ordinal);
        Assert.Contains(oldWords, refused.Message, StringComparison.Ordinal);
        Assert.Contains("--allow-weaker", refused.Message, StringComparison.Ordinal);
        using var allowed = NewAuthority.Create(old, TenYears with { KeyType = AuthorityKeyType.Parse(newType), AllowWeaker = true }, TimeProvider.System);
        Assert.Equal(newWords, allowed.Key.Description);
    }

    [Fact]
    public void Create_EcReplacingRsa2048_IsNotWeaker()
    {
        using var created = NewAuthority.Create(OldCa("rsa:2048"), TenYears with { KeyType = AuthorityKeyType.Parse("ec") }, TimeProvider.System);

        Assert.Equal("ECDSA P-256", created.Key.Description);
    }

    [Fact]
    public void FromGiven_Sha1SignedCa_IsRefusedUnlessAllowWeaker()
    {
        var old = OldCa("rsa:2048");
        var key = _scratch.RsaKey("given.key");
        var given = OpensslScratch.LoadCertificate(_scratch.SelfSignedCa("given.crt", key, "/CN=kubernetes", 30, "sha1"));

        var refused = Assert.Throws<PkiException>(() => NewAuthority.FromGiven(old, given, OpensslScratch.LoadKey(key), allowWeaker: false));

        Assert.Contains("sha1WithRSAEncryption", refused.Message, StringComparison.Ordinal);
        Assert.Contains("--allow-weaker", refused.Message, StringComparison.Ordinal);
        using var allowed = NewAuthority.FromGiven(old, given, OpensslScratch.LoadKey(key), allowWeaker: true);
        Assert.Same(given, allowed.Certificate);
    }

    [Fact]
    public void FromGiven_KeyOfAnotherCertificateOrTheOldKey_IsRefused()
    {
        var oldKey = _scratch.RsaKey("old.key");
        var old = OpensslScratch.LoadCertificate(_scratch.SelfSignedCa("old.crt", oldKey, "/CN=kubernetes"));
        var sameKey = OpensslScratch.LoadCertificate(_scratch.SelfSignedCa("same.crt", oldKey, "/CN=kubernetes"));
        var otherKey = _scratch.RsaKey("other.key");

        var wrongKey = Assert.Throws<PkiException>(() => NewAuthority.FromGiven(old, sameKey, OpensslScratch.LoadKey(otherKey), false));
        var notNew = Assert.Throws<PkiException>(() => NewAuthority.FromGiven(old, sameKey, OpensslScratch.LoadKey(oldKey), false));

        Assert.Contains("does not belong", wrongKey.Message, StringComparison.Ordinal);
        Assert.Contains("old CA's key", notNew.Message, StringComparison.Ordinal);
    }

    private CertFleet.Pki.Certificates.CertificateInfo OldCa(string keyType)
    {
        var type = AuthorityKeyType.Parse(keyType);
        var key = type.IsRsa ? _scratch.RsaKey("old-ca.key", type.Bits) : _scratch.EcKey("old-ca.key", type.Bits == 384 ? "secp384r1" : "prime256v1");
        return OpensslScratch.LoadCertificate(_scratch.SelfSignedCa("old-ca.crt", key, "/CN=kubernetes"));
    }
}
