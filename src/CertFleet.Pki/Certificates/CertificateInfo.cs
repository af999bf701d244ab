using System.Formats.Asn1;
using System.Numerics;
using System.Security.Cryptography;
using CertFleet.Pki.PemEncoding;
using CertFleet.Pki.Keys;

namespace CertFleet.Pki.Certificates;

/// <summary>
/// An immutable view of one X.509 certificate. Names and keys are kept as their exact DER so a renewal can copy
/// them byte-for-byte. The byte arrays are shared, not copied: callers must not change them.
/// </summary>
public sealed class CertificateInfo
{
    private CertificateInfo(byte[] der)
    {
        Der = der;
        var certificate = new AsnReader(der, AsnEncodingRules.BER).ReadSequence();
        TbsDer = certificate.PeekEncodedValue().ToArray();
        var tbs = certificate.ReadSequence();
        SignatureAlgorithmDer = certificate.ReadEncodedValue().ToArray();
        SignatureValue = certificate.ReadBitString(out _);
        certificate.ThrowIfNotEmpty();

        var versionTag = new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true);
        if (tbs.PeekTag().HasSameClassAndValue(versionTag))
        {
            tbs.ReadSequence(versionTag).ReadInteger();
        }
        SerialNumber = tbs.ReadIntegerBytes().ToArray();
        tbs.ReadSequence(); // inner signature algorithm, repeated outside
        IssuerDer = tbs.ReadEncodedValue().ToArray();
        var validity = tbs.ReadSequence();
        NotBefore = ReadTime(validity);
        NotAfter = ReadTime(validity);
        SubjectDer = tbs.ReadEncodedValue().ToArray();
        SubjectPublicKeyInfoDer = tbs.ReadEncodedValue().ToArray();
        IReadOnlyList<CertificateExtension> extensions = [];
        while (tbs.HasData)
        {
            var tag = tbs.PeekTag();
            if (tag.TagClass == TagClass.ContextSpecific && tag.TagValue == 3)
            {
                extensions = CertificateExtension.ReadAll(tbs.ReadSequence(tag));
            }
            else
            {
                tbs.ReadEncodedValue(); // issuerUniqueID / subjectUniqueID
            }
        }
        Extensions = extensions;

        Subject = DistinguishedName.Format(SubjectDer);
        Issuer = DistinguishedName.Format(IssuerDer);
        SerialHex = FormatSerial(SerialNumber);
        IsCa = Find(X509Oids.BasicConstraints) is { } basic && ReadCaFlag(basic.Value);
        SubjectKeyIdentifier = Find(X509Oids.SubjectKeyIdentifier) is { } ski
            ? new AsnReader(ski.Value, AsnEncodingRules.BER).ReadOctetString()
            : null;
        AuthorityKeyIdentifier = Find(X509Oids.AuthorityKeyIdentifier) is { } aki ? ReadKeyIdentifier(aki.Value) : null;
        SubjectAlternativeNames = Find(X509Oids.SubjectAlternativeName) is { } san ? GeneralNames.Format(san.Value) : [];
        Sha256Fingerprint = Convert.ToHexString(SHA256.HashData(der));
    }

    public byte[] Der { get; }

    /// <summary>The subject Name's exact DER bytes.</summary>
    public byte[] SubjectDer { get; }

    /// <summary>The issuer Name's exact DER bytes.</summary>
    public byte[] IssuerDer { get; }

    public byte[] SubjectPublicKeyInfoDer { get; }

    /// <summary>RFC 2253, as `openssl x509 -subject -nameopt RFC2253` prints it.</summary>
    public string Subject { get; }

    public string Issuer { get; }

    /// <summary>Uppercase hex as `openssl x509 -serial` prints it.</summary>
    public string SerialHex { get; }

    public DateTimeOffset NotBefore { get; }

    public DateTimeOffset NotAfter { get; }

    /// <summary>basicConstraints cA = TRUE.</summary>
    public bool IsCa { get; }

    /// <summary>Subject DER equals issuer DER.</summary>
    public bool IsSelfIssued => SubjectDer.AsSpan().SequenceEqual(IssuerDer);

    /// <summary>The first 8 hex digits of the SHA-256 of its public key: tells an old CA from its re-keyed successor of the same name.</summary>
    public string ShortKeyId => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(SubjectPublicKeyInfoDer))[..8].ToLowerInvariant();

    /// <summary>The keyIdentifier bytes of the subjectKeyIdentifier extension, or null.</summary>
    public byte[]? SubjectKeyIdentifier { get; }

    /// <summary>The keyIdentifier bytes of the authorityKeyIdentifier extension, or null.</summary>
    public byte[]? AuthorityKeyIdentifier { get; }

    /// <summary>"DNS:localhost", "IP:127.0.0.1", "IP:2001:db8::1", "URI:spiffe://x", "email:a@b".</summary>
    public IReadOnlyList<string> SubjectAlternativeNames { get; }

    /// <summary>SHA-256 of the DER, uppercase hex without separators.</summary>
    public string Sha256Fingerprint { get; }

    internal byte[] TbsDer { get; }

    internal byte[] SignatureAlgorithmDer { get; }

    internal byte[] SignatureValue { get; }

    /// <summary>The serial's INTEGER content bytes (two's complement).</summary>
    internal byte[] SerialNumber { get; }

    internal IReadOnlyList<CertificateExtension> Extensions { get; }

    /// <summary>
    /// The extensions with <paramref name="oid"/> (normally one), in order, as read from this certificate: for code
    /// outside the engine that would otherwise load an X509Certificate2, which with OpenSSL 3 costs more than a signature.
    /// </summary>
    public IReadOnlyList<(bool Critical, byte[] Value)> ExtensionsOf(string oid) =>
        Extensions.Where(e => e.Oid == oid).Select(e => (e.Critical, e.Value)).ToList();

    public static CertificateInfo Parse(ReadOnlySpan<byte> der, string sourceName)
    {
        try
        {
            return new CertificateInfo(der.ToArray());
        }
        catch (Exception e) when (e is AsnContentException or CryptographicException or ArgumentException)
        {
            throw new PkiException(
                $"{sourceName}: not a valid X.509 certificate ({e.Message}); point to the certificate file or " +
                "restore it from a backup", e);
        }
    }

    /// <summary>
    /// True when <paramref name="issuer"/> signed this certificate: names chain, key identifiers agree (when both
    /// are present) and the signature verifies with the issuer's public key.
    /// </summary>
    public bool IsIssuedBy(CertificateInfo issuer)
    {
        ArgumentNullException.ThrowIfNull(issuer);
        if (!IssuerDer.AsSpan().SequenceEqual(issuer.SubjectDer))
        {
            return false;
        }
        if (AuthorityKeyIdentifier is not null && issuer.SubjectKeyIdentifier is not null
            && !AuthorityKeyIdentifier.AsSpan().SequenceEqual(issuer.SubjectKeyIdentifier))
        {
            return false;
        }
        var algorithm = SignatureAlgorithm.FromIdentifier(SignatureAlgorithmDer);
        return algorithm is not null && algorithm.Verify(issuer.SubjectPublicKeyInfoDer, TbsDer, SignatureValue);
    }

    public string ToPem() => Pem.Write("CERTIFICATE", Der);

    public override string ToString() => $"{Subject} (serial {SerialHex})";

    internal CertificateExtension? Find(string oid)
    {
        foreach (var extension in Extensions)
        {
            if (extension.Oid == oid)
            {
                return extension;
            }
        }
        return null;
    }

    private static DateTimeOffset ReadTime(AsnReader reader) =>
        reader.PeekTag().HasSameClassAndValue(Asn1Tag.UtcTime) ? reader.ReadUtcTime() : reader.ReadGeneralizedTime();

    internal static bool ReadCaFlag(byte[] basicConstraints)
    {
        var sequence = new AsnReader(basicConstraints, AsnEncodingRules.BER).ReadSequence();
        return sequence.HasData && sequence.PeekTag().HasSameClassAndValue(Asn1Tag.Boolean) && sequence.ReadBoolean();
    }

    private static byte[]? ReadKeyIdentifier(byte[] authorityKeyIdentifier)
    {
        var sequence = new AsnReader(authorityKeyIdentifier, AsnEncodingRules.BER).ReadSequence();
        var keyIdTag = new Asn1Tag(TagClass.ContextSpecific, 0);
        return sequence.HasData && sequence.PeekTag().HasSameClassAndValue(keyIdTag)
            ? sequence.ReadOctetString(keyIdTag)
            : null;
    }

    private static string FormatSerial(byte[] content)
    {
        var value = new BigInteger(content, isUnsigned: false, isBigEndian: true);
        var magnitude = BigInteger.Abs(value).ToByteArray(isUnsigned: true, isBigEndian: true);
        var hex = value.IsZero ? "00" : Convert.ToHexString(magnitude);
        return value.Sign < 0 ? "-" + hex : hex;
    }
}
