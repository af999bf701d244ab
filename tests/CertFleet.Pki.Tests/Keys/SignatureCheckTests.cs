using System.Formats.Asn1;
using System.Security.Cryptography;
using CertFleet.Pki.Keys;
using CertFleet.Pki.Tests.Certificates;
using CertFleet.Testing;

namespace CertFleet.Pki.Tests.Keys;

/// <summary>Keys and signatures made by the openssl CLI, once for the class: the oracle both check paths must agree with.</summary>
public sealed class SignedSamples : IDisposable
{
    public SignedSamples()
    {
        Scratch.WriteText("data", "the bytes that were signed: a certificate's TBSCertificate, say");
        Scratch.RsaKey("rsa.key");
        Scratch.RsaKey("other-rsa.key");
        Scratch.EcKey("p256.key");
        Scratch.EcKey("p384.key", "secp384r1");
        foreach (var key in new[] { "rsa", "other-rsa", "p256", "p384" })
        {
            Openssl.Checked("pkey", "-in", Scratch.PathOf(key + ".key"), "-pubout", "-outform", "DER", "-out", Scratch.PathOf(key + ".spki"));
        }
        Sign("rsa", "sha256");
        Sign("rsa", "sha512");
        Sign("p256", "sha256");
        Sign("p384", "sha384");
    }

    public OpensslScratch Scratch { get; } = new();

    public byte[] Data => File.ReadAllBytes(Scratch.PathOf("data"));

    public byte[] PublicKey(string key) => File.ReadAllBytes(Scratch.PathOf(key + ".spki"));

    public byte[] Signature(string key, string hash) => File.ReadAllBytes(Scratch.PathOf($"{key}.{hash}.sig"));

    public void Dispose() => Scratch.Dispose();

    private void Sign(string key, string hash) =>
        Openssl.Checked("dgst", "-" + hash, "-sign", Scratch.PathOf(key + ".key"), "-out", Scratch.PathOf($"{key}.{hash}.sig"), Scratch.PathOf("data"));
}

/// <summary>
/// The signature check through libcrypto's own key objects (the coordinator's fast path) must give exactly the answer
/// System.Security.Cryptography gives, for good and bad signatures alike, and leave .NET's OpenSSL state clean.
/// </summary>
public sealed class SignatureCheckTests(SignedSamples samples) : IClassFixture<SignedSamples>
{
    public static TheoryData<string, string, string> Signed => new()
    {
        { "rsa", "sha256", "1.2.840.113549.1.1.11" },
        { "rsa", "sha512", "1.2.840.113549.1.1.13" },
        { "p256", "sha256", "1.2.840.10045.4.3.2" },
        { "p384", "sha384", "1.2.840.10045.4.3.3" },
    };

    [Fact]
    public void FastPath_IsAvailableOnThisMachine()
    {
        // without it every check silently takes the slow path; the renewal rate in docs/PERFORMANCE.md depends on it
        Assert.True(OpenSslVerifier.IsAvailable, "libcrypto.so.3 (or .so.1.1) with d2i_RSA_PUBKEY, RSA_verify, d2i_EC_PUBKEY and ECDSA_verify");
    }

    [Theory]
    [MemberData(nameof(Signed))]
    public void OpensslsSignature_VerifiesOnBothPaths(string key, string hash, string oid)
    {
        AssertBothSay(true, Algorithm(oid), samples.PublicKey(key), samples.Data, samples.Signature(key, hash));
    }

    [Theory]
    [MemberData(nameof(Signed))]
    public void AlteredData_FailsOnBothPaths(string key, string hash, string oid)
    {
        var data = samples.Data;
        data[^1] ^= 1;
        AssertBothSay(false, Algorithm(oid), samples.PublicKey(key), data, samples.Signature(key, hash));
    }

    [Theory]
    [MemberData(nameof(Signed))]
    public void AlteredSignature_FailsOnBothPaths(string key, string hash, string oid)
    {
        var signature = samples.Signature(key, hash);
        signature[signature.Length / 2] ^= 0x40;
        AssertBothSay(false, Algorithm(oid), samples.PublicKey(key), samples.Data, signature);
    }

    [Fact]
    public void AnotherKeysSignature_Fails()
    {
        AssertBothSay(false, Algorithm("1.2.840.113549.1.1.11"), samples.PublicKey("other-rsa"), samples.Data, samples.Signature("rsa", "sha256"));
    }

    [Fact]
    public void RsaSignatureCheckedAsEcdsa_FailsWithoutDisturbingLaterChecks()
    {
        AssertBothSay(false, Algorithm("1.2.840.10045.4.3.2"), samples.PublicKey("rsa"), samples.Data, samples.Signature("rsa", "sha256"));
        AssertBothSay(false, Algorithm("1.2.840.113549.1.1.11"), samples.PublicKey("p256"), samples.Data, samples.Signature("p256", "sha256"));
        // a malformed ECDSA signature makes ECDSA_verify queue an error; the next .NET operation must not see it
        AssertBothSay(false, Algorithm("1.2.840.10045.4.3.2"), samples.PublicKey("p256"), samples.Data, new byte[] { 0x30, 0x03, 0x02, 0x01 });
        using var rsa = RSA.Create(2048);
        Assert.True(rsa.VerifyData(samples.Data, rsa.SignData(samples.Data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
            HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
    }

    [Fact]
    public void PssOnlyKey_IsRefusedForPkcs1Signatures()
    {
        // the RSA key's own modulus, but its SubjectPublicKeyInfo says id-RSASSA-PSS: System.Security.Cryptography
        // does not load such a key, libcrypto's d2i_RSA_PUBKEY would, so the fast path must refuse it itself
        var spki = new AsnReader(samples.PublicKey("rsa"), AsnEncodingRules.DER).ReadSequence();
        spki.ReadSequence();
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier("1.2.840.113549.1.1.10");
            }
            writer.WriteEncodedValue(spki.ReadEncodedValue().Span);
        }
        AssertBothSay(false, Algorithm("1.2.840.113549.1.1.11"), writer.Encode(), samples.Data, samples.Signature("rsa", "sha256"));
    }

    [Fact]
    public void SpkiWithTrailingBytes_Fails()
    {
        var spki = samples.PublicKey("rsa").Concat(new byte[] { 0x05, 0x00 }).ToArray();
        Assert.False(OpenSslVerifier.Verify(Algorithm("1.2.840.113549.1.1.11"), spki, samples.Data, samples.Signature("rsa", "sha256")));
    }

    private static void AssertBothSay(bool expected, SignatureAlgorithm algorithm, byte[] spki, byte[] data, byte[] signature)
    {
        Assert.Equal(expected, algorithm.VerifyWithDotNet(spki, data, signature));
        Assert.Equal(expected, OpenSslVerifier.Verify(algorithm, spki, data, signature));
    }

    private static SignatureAlgorithm Algorithm(string oid)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier(oid);
        }
        return SignatureAlgorithm.FromIdentifier(writer.Encode()) ?? throw new InvalidOperationException(oid);
    }
}
