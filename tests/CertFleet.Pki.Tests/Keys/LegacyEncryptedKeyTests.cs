using CertFleet.Pki.Keys;
using CertFleet.Pki.PemEncoding;
using CertFleet.Pki.Tests.Certificates;
using CertFleet.Testing;

namespace CertFleet.Pki.Tests.Keys;

/// <summary>
/// Traditionally encrypted PEM keys (Proc-Type: 4,ENCRYPTED), each made by the openssl CLI as OpenSSL 1.x's
/// `genrsa -aes256` did; openssl's own public key of each is the oracle.
/// </summary>
public sealed class LegacyEncryptedKeyTests : IDisposable
{
    private const string Passphrase = "old cluster's pass";
    private readonly OpensslScratch _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Theory]
    [InlineData("rsa", "-aes256", "AES-256-CBC", "RSA 2048")]
    [InlineData("rsa", "-aes128", "AES-128-CBC", "RSA 2048")]
    [InlineData("rsa", "-aes192", "AES-192-CBC", "RSA 2048")]
    [InlineData("rsa", "-des3", "DES-EDE3-CBC", "RSA 2048")]
    [InlineData("ec", "-aes128", "AES-128-CBC", "ECDSA P-256")]
    [InlineData("ec", "-aes256", "AES-256-CBC", "ECDSA P-384")]
    [InlineData("ec", "-des3", "DES-EDE3-CBC", "ECDSA P-256")]
    public void Parse_LegacyEncryptedWithPassphrase_LoadsOpensslsKeyAndSigns(string type, string cipherOption, string dekInfo, string description)
    {
        var path = Encrypted(type, cipherOption, description.EndsWith("P-384", StringComparison.Ordinal) ? "secp384r1" : "prime256v1");
        var block = Assert.Single(Pem.Read(File.ReadAllText(path), path));
        Openssl.Checked("pkey", "-in", path, "-passin", "pass:" + Passphrase, "-pubout", "-outform", "DER", "-out", path + ".pub.der");
        var data = "to be signed"u8.ToArray();

        using var key = PrivateKey.Parse(block, path, Passphrase);

        Assert.Contains("DEK-Info: " + dekInfo + ",", File.ReadAllText(path), StringComparison.Ordinal);
        Assert.Equal(description, key.Description);
        Assert.Equal(File.ReadAllBytes(path + ".pub.der"), key.SubjectPublicKeyInfoDer);
        var algorithm = key.DefaultSignatureAlgorithm;
        Assert.True(algorithm.Verify(key.SubjectPublicKeyInfoDer, data, algorithm.Sign(key.Algorithm, data)));
    }

    [Fact]
    public void Parse_LegacyEncryptedWithANonAsciiPassphrase_ReadsItAsOpensslTookItsBytes()
    {
        const string passphrase = "Schlüssel-密码";
        var path = _scratch.PathOf("rsa-utf8.key");
        Openssl.Checked("genrsa", "-aes256", "-traditional", "-passout", "pass:" + passphrase, "-out", path, "2048");
        Openssl.Checked("pkey", "-in", path, "-passin", "pass:" + passphrase, "-pubout", "-outform", "DER", "-out", path + ".pub.der");

        using var key = PrivateKey.Parse(Assert.Single(Pem.Read(File.ReadAllText(path), path)), path, passphrase);

        Assert.Equal(File.ReadAllBytes(path + ".pub.der"), key.SubjectPublicKeyInfoDer);
    }

    [Fact]
    public void Parse_LegacyEncryptedWithoutPassphrase_SaysEncryptedWithWhichCipherAndHowToDecrypt()
    {
        var path = Encrypted("rsa", "-aes256", null);

        var error = Assert.Throws<PkiException>(() => PrivateKey.Parse(Assert.Single(Pem.Read(File.ReadAllText(path), path)), "/etc/kubernetes/pki/ca.key"));

        Assert.StartsWith("/etc/kubernetes/pki/ca.key: the private key is encrypted with a passphrase (Proc-Type: 4,ENCRYPTED, AES-256-CBC)", error.Message, StringComparison.Ordinal);
        Assert.Contains("openssl pkey -in KEY -out KEY.plain", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_LegacyEncryptedWrongPassphrase_SaysCheckThePassphraseWithoutShowingIt()
    {
        var path = Encrypted("ec", "-aes256", "prime256v1");

        var error = Assert.Throws<PkiException>(() => PrivateKey.Parse(Assert.Single(Pem.Read(File.ReadAllText(path), path)), "ca.key", "hunter2-wrong"));

        Assert.Equal("ca.key: the encrypted private key (AES-256-CBC) could not be decrypted (wrong passphrase, or a damaged file); check the passphrase", error.Message);
    }

    [Fact]
    public void Parse_LegacyEncryptedWithAnotherCipher_NamesTheCipherAndTheConversion()
    {
        var path = Encrypted("rsa", "-camellia256", null);

        var error = Assert.Throws<PkiException>(() => PrivateKey.Parse(Assert.Single(Pem.Read(File.ReadAllText(path), path)), "ca.key", Passphrase));

        Assert.StartsWith("ca.key: the key is encrypted with CAMELLIA-256-CBC (its DEK-Info line), which CertFleet does not read", error.Message, StringComparison.Ordinal);
        Assert.Contains("openssl pkcs8 -topk8 -v2 aes-256-cbc", error.Message, StringComparison.Ordinal);
    }

    /// <summary>A key written by `openssl genrsa|ec CIPHER -traditional`, what OpenSSL 1.x wrote by default.</summary>
    private string Encrypted(string type, string cipherOption, string? curve)
    {
        var path = _scratch.PathOf($"{type}{cipherOption}.key");
        if (type == "rsa")
        {
            Openssl.Checked("genrsa", cipherOption, "-traditional", "-passout", "pass:" + Passphrase, "-out", path, "2048");
        }
        else
        {
            var plain = _scratch.EcKey($"plain{cipherOption}{curve}.key", curve!);
            Openssl.Checked("ec", "-in", plain, cipherOption, "-passout", "pass:" + Passphrase, "-out", path);
        }
        Assert.Contains("Proc-Type: 4,ENCRYPTED", File.ReadAllText(path), StringComparison.Ordinal);
        return path;
    }
}
