using System.Formats.Asn1;
using System.Security.Cryptography;

namespace CertFleet.Pki.Keys;

/// <summary>
/// The signature algorithms CertFleet signs and verifies with: RSA PKCS#1 v1.5 and ECDSA over SHA-256/384/512.
/// All operations go through System.Security.Cryptography (OpenSSL underneath), never managed BouncyCastle.
/// </summary>
internal sealed record SignatureAlgorithm(string Oid, HashAlgorithmName Hash, bool IsRsa)
{
    private static readonly SignatureAlgorithm[] Known =
    [
        new("1.2.840.113549.1.1.11", HashAlgorithmName.SHA256, true),
        new("1.2.840.113549.1.1.12", HashAlgorithmName.SHA384, true),
        new("1.2.840.113549.1.1.13", HashAlgorithmName.SHA512, true),
        new("1.2.840.10045.4.3.2", HashAlgorithmName.SHA256, false),
        new("1.2.840.10045.4.3.3", HashAlgorithmName.SHA384, false),
        new("1.2.840.10045.4.3.4", HashAlgorithmName.SHA512, false),
    ];

    /// <summary>RSA -> sha256WithRSAEncryption; ECDSA -> the hash that matches the curve size.</summary>
    public static SignatureAlgorithm For(AsymmetricAlgorithm key) => key switch
    {
        RSA => Known[0],
        ECDsa { KeySize: <= 256 } => Known[3],
        ECDsa { KeySize: <= 384 } => Known[4],
        ECDsa => Known[5],
        _ => throw new ArgumentException($"unsupported key type {key.GetType().Name}", nameof(key)),
    };

    /// <summary>
    /// What the renewal of a certificate signed with <paramref name="originalIdentifierDer"/> is signed with: the same
    /// algorithm when CertFleet knows it and <paramref name="key"/> can make it (KTHW's sha512 CA stays sha512, a
    /// P-256 CA's SHA-384 stays SHA-384), so a renewal changes nothing it need not; otherwise <see cref="For"/>.
    /// </summary>
    public static SignatureAlgorithm ForRenewal(ReadOnlyMemory<byte> originalIdentifierDer, AsymmetricAlgorithm key) =>
        FromIdentifier(originalIdentifierDer) is { } original && original.IsRsa == (key is RSA) ? original : For(key);

    /// <summary>The algorithm an AlgorithmIdentifier names, or null when it is not one CertFleet supports.</summary>
    public static SignatureAlgorithm? FromIdentifier(ReadOnlyMemory<byte> algorithmIdentifierDer)
    {
        try
        {
            var oid = new AsnReader(algorithmIdentifierDer, AsnEncodingRules.BER).ReadSequence().ReadObjectIdentifier();
            return Array.Find(Known, a => a.Oid == oid);
        }
        catch (AsnContentException)
        {
            return null;
        }
    }

    /// <summary>The AlgorithmIdentifier DER; RSA carries explicit NULL parameters, ECDSA none (RFC 5758).</summary>
    public void WriteIdentifier(AsnWriter writer)
    {
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier(Oid);
            if (IsRsa)
            {
                writer.WriteNull();
            }
        }
    }

    public byte[] Sign(AsymmetricAlgorithm key, ReadOnlySpan<byte> data) => key switch
    {
        RSA rsa when IsRsa => rsa.SignData(data, Hash, RSASignaturePadding.Pkcs1),
        ECDsa ecdsa when !IsRsa => ecdsa.SignData(data, Hash, DSASignatureFormat.Rfc3279DerSequence),
        _ => throw new ArgumentException($"{Oid} cannot be made with a {key.GetType().Name} key", nameof(key)),
    };

    /// <summary>One check, never remembered: a renewal is read once (RenewalRequest, IssuedCertificate), so nothing repeats it.</summary>
    public bool Verify(ReadOnlySpan<byte> subjectPublicKeyInfo, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature) =>
        OpenSslVerifier.Verify(this, subjectPublicKeyInfo, data, signature) ?? VerifyWithDotNet(subjectPublicKeyInfo, data, signature);

    /// <summary>The check through System.Security.Cryptography, where libcrypto cannot be called directly.</summary>
    internal bool VerifyWithDotNet(ReadOnlySpan<byte> subjectPublicKeyInfo, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        var key = RecentKeys<AsymmetricAlgorithm>.Get(subjectPublicKeyInfo, SubjectPublicKey.Load);
        try
        {
            return key switch
            {
                RSA rsa when IsRsa => rsa.VerifyData(data, signature, Hash, RSASignaturePadding.Pkcs1),
                ECDsa ecdsa when !IsRsa => ecdsa.VerifyData(data, signature, Hash, DSASignatureFormat.Rfc3279DerSequence),
                _ => false,
            };
        }
        catch (CryptographicException)
        {
            return false;
        }
    }
}
