using System.Formats.Asn1;
using System.Security.Cryptography;

namespace CertFleet.Pki.Keys;

/// <summary>Loads and compares SubjectPublicKeyInfo structures through System.Security.Cryptography.</summary>
internal static class SubjectPublicKey
{
    internal const string RsaOid = "1.2.840.113549.1.1.1";
    internal const string EcOid = "1.2.840.10045.2.1";

    /// <summary>An RSA or ECDsa public key, or null when the key type is not one CertFleet supports.</summary>
    public static AsymmetricAlgorithm? Load(ReadOnlySpan<byte> spki)
    {
        try
        {
            var oid = AlgorithmOid(spki.ToArray());
            AsymmetricAlgorithm? key = oid switch
            {
                RsaOid => RSA.Create(),
                EcOid => ECDsa.Create(),
                _ => null,
            };
            if (key is RSA rsa)
            {
                rsa.ImportSubjectPublicKeyInfo(spki, out _);
            }
            else if (key is ECDsa ecdsa)
            {
                ecdsa.ImportSubjectPublicKeyInfo(spki, out _);
            }
            return key;
        }
        // an unknown curve surfaces as PlatformNotSupportedException
        catch (Exception e) when (e is CryptographicException or AsnContentException or PlatformNotSupportedException)
        {
            return null;
        }
    }

    /// <summary>True when both describe the same public key, even if encoded differently (e.g. a compressed EC point).</summary>
    public static bool AreSame(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        if (a.SequenceEqual(b))
        {
            return true;
        }
        using var keyA = Load(a);
        using var keyB = Load(b);
        return keyA is not null && keyB is not null
            && keyA.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(keyB.ExportSubjectPublicKeyInfo());
    }

    /// <summary>The key's algorithm OID (rsaEncryption, id-ecPublicKey...), or null when it does not parse.</summary>
    public static string? KeyTypeOf(ReadOnlySpan<byte> spki)
    {
        try
        {
            return AlgorithmOid(spki.ToArray());
        }
        catch (AsnContentException)
        {
            return null;
        }
    }

    private static string AlgorithmOid(byte[] spki)
    {
        var sequence = new AsnReader(spki, AsnEncodingRules.BER).ReadSequence();
        return sequence.ReadSequence().ReadObjectIdentifier();
    }
}
