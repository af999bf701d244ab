using CertFleet.Pki.PemEncoding;
using CertFleet.Pki.Keys;
using CertFleet.Pki.Tests.Certificates;
using CertFleet.Testing;

namespace CertFleet.Pki.Tests.Keys;

/// <summary>Keys in every format openssl writes them, made once for the class (RSA 4096 takes a moment).</summary>
public sealed class KeyFiles : IDisposable
{
    public KeyFiles()
    {
        Scratch.RsaKey("rsa2048-pkcs1.key");
        Scratch.RsaKey("rsa4096-pkcs1.key", 4096);
        Scratch.EcKey("p256-sec1.key");
        Scratch.EcKey("p384-sec1.key", "secp384r1");
        Openssl.Checked("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", Scratch.PathOf("rsa-pkcs8.key"));
        Openssl.Checked("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", Scratch.PathOf("ec-pkcs8.key"));
        foreach (var name in new[] { "rsa-pkcs8", "ec-pkcs8" })
        {
            Openssl.Checked("pkcs8", "-topk8", "-in", Scratch.PathOf(name + ".key"), "-passout", "pass:s3cret",
                "-out", Scratch.PathOf(name + "-encrypted.key"));
        }
    }

    public OpensslScratch Scratch { get; } = new();

    public void Dispose() => Scratch.Dispose();
}

public sealed class PrivateKeyTests(KeyFiles keys, SmallEcPkiFixture pki) : IClassFixture<KeyFiles>, IClassFixture<SmallEcPkiFixture>
{
    private static PemBlock Block(string path) => Assert.Single(Pem.Read(File.ReadAllText(path), path));

    private string PkiFile(string name) => Path.Combine(pki.NodeRoot("master-1"), "etc/kubernetes/pki", name);

    [Theory]
    [InlineData("rsa2048-pkcs1.key", "RSA PRIVATE KEY", "RSA 2048")]
    [InlineData("rsa4096-pkcs1.key", "RSA PRIVATE KEY", "RSA 4096")]
    [InlineData("p256-sec1.key", "EC PRIVATE KEY", "ECDSA P-256")]
    [InlineData("p384-sec1.key", "EC PRIVATE KEY", "ECDSA P-384")]
    [InlineData("rsa-pkcs8.key", "PRIVATE KEY", "RSA 2048")]
    [InlineData("ec-pkcs8.key", "PRIVATE KEY", "ECDSA P-256")]
    public void Parse_KeyFormatsOpensslWrites_LoadsKeyWithOpensslsPublicKey(string file, string label, string description)
    {
        var path = keys.Scratch.PathOf(file);
        var block = Block(path);
        Openssl.Checked("pkey", "-in", path, "-pubout", "-outform", "DER", "-out", path + ".pub.der");

        using var key = PrivateKey.Parse(block, path);

        Assert.Equal(label, block.Label);
        Assert.Equal(description, key.Description);
        Assert.Equal(File.ReadAllBytes(path + ".pub.der"), key.SubjectPublicKeyInfoDer);
    }

    [Fact]
    public void Parse_EncryptedPkcs8WithoutPassphrase_ThrowsSayingItIsEncrypted()
    {
        var path = keys.Scratch.PathOf("rsa-pkcs8-encrypted.key");

        var error = Assert.Throws<PkiException>(() => PrivateKey.Parse(Block(path), "/etc/kubernetes/pki/ca.key"));

        Assert.StartsWith("/etc/kubernetes/pki/ca.key: ", error.Message, StringComparison.Ordinal);
        Assert.Contains("encrypted", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("rsa-pkcs8", "RSA 2048")]
    [InlineData("ec-pkcs8", "ECDSA P-256")]
    public void Parse_EncryptedPkcs8WithPassphrase_LoadsTheSameKey(string name, string description)
    {
        using var plain = PrivateKey.Parse(Block(keys.Scratch.PathOf(name + ".key")), name);

        using var key = PrivateKey.Parse(Block(keys.Scratch.PathOf(name + "-encrypted.key")), name, "s3cret");

        Assert.Equal(description, key.Description);
        Assert.Equal(plain.SubjectPublicKeyInfoDer, key.SubjectPublicKeyInfoDer);
    }

    [Fact]
    public void Parse_EncryptedPkcs8WithWrongPassphrase_ThrowsNamingTheFile()
    {
        var error = Assert.Throws<PkiException>(() =>
            PrivateKey.Parse(Block(keys.Scratch.PathOf("ec-pkcs8-encrypted.key")), "ca.key", "wrong"));

        Assert.StartsWith("ca.key: ", error.Message, StringComparison.Ordinal);
        Assert.Contains("passphrase", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_LegacyEncryptedPkcs1_ThrowsSayingItMayBeEncrypted()
    {
        var path = keys.Scratch.PathOf("legacy-encrypted.key");
        Openssl.Checked("rsa", "-in", keys.Scratch.PathOf("rsa2048-pkcs1.key"), "-traditional", "-aes256", "-passout", "pass:x", "-out", path);
        Assert.Contains("Proc-Type: 4,ENCRYPTED", File.ReadAllText(path), StringComparison.Ordinal);

        var error = Assert.Throws<PkiException>(() => PrivateKey.Parse(Block(path), "front-proxy-ca.key"));

        Assert.StartsWith("front-proxy-ca.key: ", error.Message, StringComparison.Ordinal);
        Assert.Contains("encrypted", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_CertificateBlock_ThrowsNotAPrivateKey()
    {
        var error = Assert.Throws<PkiException>(() => PrivateKey.Parse(Block(PkiFile("ca.crt")), "ca.key"));

        Assert.Contains("not a PEM private key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_DamagedKeyBytes_ThrowsNamingTheFile()
    {
        var block = Block(keys.Scratch.PathOf("p256-sec1.key"));
        var damaged = block with { Der = block.Der[..20] };

        var error = Assert.Throws<PkiException>(() => PrivateKey.Parse(damaged, "apiserver.key"));

        Assert.StartsWith("apiserver.key: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Matches_KeyOfItsCertificate_True()
    {
        using var key = OpensslScratch.LoadKey(PkiFile("apiserver.key"));

        Assert.True(key.Matches(OpensslScratch.LoadCertificate(PkiFile("apiserver.crt"))));
    }

    [Fact]
    public void Matches_KeyOfAnotherCertificate_False()
    {
        using var key = OpensslScratch.LoadKey(PkiFile("admin.key"));

        Assert.False(key.Matches(OpensslScratch.LoadCertificate(PkiFile("apiserver.crt"))));
    }

    [Theory]
    [InlineData("RSA PRIVATE KEY", true)]
    [InlineData("EC PRIVATE KEY", true)]
    [InlineData("PRIVATE KEY", true)]
    [InlineData("ENCRYPTED PRIVATE KEY", true)]
    [InlineData("CERTIFICATE", false)]
    [InlineData("PUBLIC KEY", false)]
    public void IsPrivateKeyLabel_Label_ExpectedAnswer(string label, bool expected) =>
        Assert.Equal(expected, PrivateKey.IsPrivateKeyLabel(label));
}
