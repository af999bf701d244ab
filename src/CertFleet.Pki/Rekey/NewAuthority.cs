using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CertFleet.Pki.Certificates;
using CertFleet.Pki.Keys;
using CertFleet.Pki.Signing;

namespace CertFleet.Pki.Rekey;

/// <summary>What the new CA of a re-key is made with; every field null or false keeps the old CA's choice.</summary>
/// <param name="Validity">how long the new CA certificate is valid (`--ca-days`)</param>
/// <param name="Subject">`--subject` as "CN=kubernetes,O=ops" (RFC 4514 order), else the old CA's subject byte for byte</param>
/// <param name="KeyType">`--key-type`, else a key of the old CA's type and size</param>
/// <param name="AllowWeaker">`--allow-weaker`: accept a new key weaker than the old one</param>
public sealed record NewAuthorityRequest(TimeSpan Validity, string? Subject = null, AuthorityKeyType? KeyType = null, bool AllowWeaker = false);

/// <summary>
/// The CA that replaces an old one in a re-key: a new key, and a self-signed CA certificate for it with the old CA's
/// subject, CA extensions (basicConstraints, keyUsage and any other but the key identifiers) and signature algorithm
/// (KTHW's sha512 CA stays sha512), a key identifier of its own. A new key is never weaker than the old one unless
/// the operator says so (<see cref="CheckStrength"/>). Owns the key.
/// </summary>
public sealed class NewAuthority : IDisposable
{
    /// <summary>Backdating absorbs small clock differences, as the issuer does for renewals.</summary>
    private static readonly TimeSpan Backdate = TimeSpan.FromMinutes(5);

    private static readonly Dictionary<string, string> WeakSignatures = new(StringComparer.Ordinal)
    {
        ["1.2.840.113549.1.1.4"] = "md5WithRSAEncryption",
        ["1.2.840.113549.1.1.5"] = "sha1WithRSAEncryption",
        ["1.2.840.10045.4.1"] = "ecdsa-with-SHA1",
        ["1.3.14.3.2.29"] = "sha1WithRSA",
    };

    private NewAuthority(CertificateAuthority authority) => Authority = authority;

    public CertificateAuthority Authority { get; }

    public CertificateInfo Certificate => Authority.Certificate;

    public PrivateKey Key => Authority.Key;

    /// <summary>The new key as PKCS#8 PEM, for the coordinator's CA key file (and the masters' signing key).</summary>
    public string KeyPem => Key.ExportPkcs8Pem();

    /// <summary>Makes the new CA for <paramref name="old"/> as <paramref name="request"/> asks.</summary>
    public static NewAuthority Create(CertificateInfo old, NewAuthorityRequest request, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(old);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(time);
        if (!old.IsCa)
        {
            throw new PkiException($"{old.Subject}: not a CA certificate (basicConstraints CA:TRUE missing); name the CA to re-key");
        }
        if (request.Validity <= TimeSpan.Zero)
        {
            throw new PkiException($"the new CA's validity {request.Validity} is not positive; give --ca-days above zero");
        }
        var oldType = AuthorityKeyType.Of(old);
        var newType = request.KeyType ?? oldType;
        CheckKeyStrength(old, oldType, newType, request.AllowWeaker);

        var key = PrivateKey.FromGenerated(newType.Generate());
        try
        {
            var subject = request.Subject is null ? old.SubjectDer : ParseSubject(request.Subject);
            var keyId = KeyIdentifier(key.SubjectPublicKeyInfoDer);
            var now = time.GetUtcNow();
            var template = new CertificateTemplate(SerialNumbers.NewSerial(old.SerialNumber), subject, now - Backdate, now + request.Validity,
                subject, key.SubjectPublicKeyInfoDer, Extensions(old, keyId), SignatureAlgorithm.ForRenewal(old.SignatureAlgorithmDer, key.Algorithm));
            var certificate = template.Sign(key, $"new CA for {old.Subject}");
            return new NewAuthority(new CertificateAuthority(certificate, key));
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A new CA the operator made (`--new-ca-cert`, `--new-ca-key`): checked to be a CA that may sign certificates,
    /// to carry <paramref name="key"/>, and to be no weaker than <paramref name="old"/>. Takes ownership of the key.
    /// </summary>
    public static NewAuthority FromGiven(CertificateInfo old, CertificateInfo certificate, PrivateKey key, bool allowWeaker)
    {
        ArgumentNullException.ThrowIfNull(old);
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(key);
        if (!certificate.IsCa || !MaySignCertificates(certificate))
        {
            throw new PkiException($"the new CA certificate '{certificate.Subject}' is not a CA that may sign certificates " +
                "(basicConstraints CA:TRUE and keyUsage keyCertSign); make it with both");
        }
        if (!key.Matches(certificate))
        {
            throw new PkiException($"the new CA key ({key.Description}) does not belong to the new CA certificate '{certificate.Subject}'; " +
                "give the certificate's own key");
        }
        if (SubjectPublicKey.AreSame(old.SubjectPublicKeyInfoDer, certificate.SubjectPublicKeyInfoDer))
        {
            throw new PkiException($"the new CA certificate '{certificate.Subject}' carries the old CA's key; a re-key needs a new key " +
                "(to renew the CA with its own key, renew without --rekey-ca)");
        }
        CheckStrength(old, certificate, allowWeaker);
        return new NewAuthority(new CertificateAuthority(certificate, key));
    }

    /// <summary>
    /// Refuses a new CA weaker than the old one, unless <paramref name="allowWeaker"/>: a smaller RSA key or EC curve,
    /// a key of the other type with less strength by NIST's equivalents, or a certificate signed with SHA-1 or MD5.
    /// </summary>
    public static void CheckStrength(CertificateInfo old, CertificateInfo replacement, bool allowWeaker)
    {
        ArgumentNullException.ThrowIfNull(old);
        ArgumentNullException.ThrowIfNull(replacement);
        CheckKeyStrength(old, AuthorityKeyType.Of(old), AuthorityKeyType.Of(replacement), allowWeaker);
        if (!allowWeaker && SignatureOid(replacement) is { } oid && WeakSignatures.TryGetValue(oid, out var weak))
        {
            throw new PkiException($"the new CA certificate '{replacement.Subject}' is signed with {weak}, a broken hash, while the old CA " +
                $"'{old.Subject}' key is {AuthorityKeyType.Of(old)}; sign it with SHA-256 or better, or pass --allow-weaker to use it anyway");
        }
    }

    private static void CheckKeyStrength(CertificateInfo old, AuthorityKeyType oldType, AuthorityKeyType newType, bool allowWeaker)
    {
        if (!allowWeaker && newType.IsWeakerThan(oldType))
        {
            throw new PkiException($"the new CA key ({newType}, {newType.SecurityBits}-bit strength) is weaker than the old CA " +
                $"'{old.Subject}' key ({oldType}, {oldType.SecurityBits}-bit strength); give a key at least as strong " +
                "(--key-type), or pass --allow-weaker to accept it");
        }
    }

    /// <summary>The old CA's extensions with this key's identifiers: CA:TRUE and keyCertSign guaranteed, nothing else changed.</summary>
    private static List<CertificateExtension> Extensions(CertificateInfo old, byte[] keyId)
    {
        var result = new List<CertificateExtension>();
        var hadKeyUsage = false;
        foreach (var extension in old.Extensions)
        {
            switch (extension.Oid)
            {
                case X509Oids.SubjectKeyIdentifier:
                case X509Oids.AuthorityKeyIdentifier:
                    break; // written below for the new key
                case X509Oids.KeyUsage when !HasKeyCertSign(extension.Value):
                    break; // replaced below: a CA without keyCertSign signs nothing openssl accepts
                case X509Oids.KeyUsage:
                    hadKeyUsage = true;
                    result.Add(extension);
                    break;
                default:
                    result.Add(extension);
                    break;
            }
        }
        if (!old.ExtensionsOf(X509Oids.BasicConstraints).Any())
        {
            result.Insert(0, CertificateExtension.Create(X509Oids.BasicConstraints, true, [0x30, 0x03, 0x01, 0x01, 0xFF]));
        }
        if (!hadKeyUsage)
        {
            // digitalSignature, keyCertSign, cRLSign
            result.Add(CertificateExtension.Create(X509Oids.KeyUsage, true, [0x03, 0x02, 0x01, 0x86]));
        }
        result.Add(CertificateExtension.Create(X509Oids.SubjectKeyIdentifier, false, OctetString(keyId)));
        if (old.AuthorityKeyIdentifier is not null)
        {
            result.Add(CertificateExtension.Create(X509Oids.AuthorityKeyIdentifier, false, KeyIdOnlyAuthorityKeyIdentifier(keyId)));
        }
        return result;
    }

    private static bool MaySignCertificates(CertificateInfo certificate) =>
        certificate.ExtensionsOf(X509Oids.KeyUsage) is not [var keyUsage] || HasKeyCertSign(keyUsage.Value);

    private static bool HasKeyCertSign(byte[] keyUsageValue)
    {
        try
        {
            var bits = new AsnReader(keyUsageValue, AsnEncodingRules.BER).ReadBitString(out _);
            return bits.Length > 0 && (bits[0] & 0x04) != 0; // bit 5, keyCertSign
        }
        catch (AsnContentException)
        {
            return false;
        }
    }

    /// <summary>RFC 5280 4.2.1.2 method 1, as openssl's "subjectKeyIdentifier = hash": SHA-1 of the subjectPublicKey bits.</summary>
    private static byte[] KeyIdentifier(byte[] subjectPublicKeyInfo)
    {
        var spki = new AsnReader(subjectPublicKeyInfo, AsnEncodingRules.DER).ReadSequence();
        spki.ReadSequence();
        var bits = spki.ReadBitString(out _);
#pragma warning disable CA5350 // the key identifier is a name, not a signature: RFC 5280 names SHA-1 for it
        return SHA1.HashData(bits);
#pragma warning restore CA5350
    }

    private static byte[] OctetString(byte[] value)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        writer.WriteOctetString(value);
        return writer.Encode();
    }

    private static byte[] KeyIdOnlyAuthorityKeyIdentifier(byte[] keyId)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteOctetString(keyId, new Asn1Tag(TagClass.ContextSpecific, 0));
        }
        return writer.Encode();
    }

    /// <summary>
    /// A subject as openssl's -subj writes it ("/O=ops/CN=kubernetes-ca", encoded in that order), or as .NET reads a
    /// distinguished name ("CN=kubernetes-ca,O=ops").
    /// </summary>
    private static byte[] ParseSubject(string subject)
    {
        try
        {
            return subject.StartsWith('/') ? OpensslSubject(subject) : new X500DistinguishedName(subject).RawData;
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            throw new PkiException($"--subject '{subject}' is not a distinguished name; write it as /O=ops/CN=kubernetes-ca (as openssl -subj) " +
                "or CN=kubernetes-ca,O=ops", e);
        }
    }

    private static readonly Dictionary<string, string> NameOids = new(StringComparer.OrdinalIgnoreCase)
    {
        ["CN"] = "2.5.4.3", ["O"] = "2.5.4.10", ["OU"] = "2.5.4.11", ["C"] = "2.5.4.6", ["ST"] = "2.5.4.8", ["L"] = "2.5.4.7",
        ["serialNumber"] = "2.5.4.5", ["DC"] = "0.9.2342.19200300.100.1.25",
    };

    private static byte[] OpensslSubject(string subject)
    {
        var builder = new X500DistinguishedNameBuilder();
        var parts = subject[1..].Split('/');
        if (parts.Any(p => p.Length == 0))
        {
            throw new ArgumentException("an empty part between two /");
        }
        // the builder encodes the names last added first (the order .NET prints them), openssl's -subj first written first
        foreach (var part in parts.Reverse())
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0 || equals == part.Length - 1 || !NameOids.TryGetValue(part[..equals].Trim(), out var oid))
            {
                throw new ArgumentException($"'{part}' is not TYPE=value with a type of {string.Join(", ", NameOids.Keys)}");
            }
            var value = part[(equals + 1)..];
            if (oid == "2.5.4.6")
            {
                builder.AddCountryOrRegion(value);
            }
            else if (oid == "0.9.2342.19200300.100.1.25")
            {
                builder.AddDomainComponent(value);
            }
            else
            {
                builder.Add(oid, value);
            }
        }
        return builder.Build().RawData;
    }

    private static string? SignatureOid(CertificateInfo certificate)
    {
        try
        {
            return new AsnReader(certificate.SignatureAlgorithmDer, AsnEncodingRules.BER).ReadSequence().ReadObjectIdentifier();
        }
        catch (AsnContentException)
        {
            return null;
        }
    }

    public void Dispose() => Key.Dispose();
}
