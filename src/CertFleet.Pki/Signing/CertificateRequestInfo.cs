using System.Formats.Asn1;
using System.Security.Cryptography;
using CertFleet.Pki.Certificates;
using CertFleet.Pki.Keys;

namespace CertFleet.Pki.Signing;

/// <summary>An immutable view of a PKCS#10 certificate signing request.</summary>
public sealed class CertificateRequestInfo
{
    private CertificateRequestInfo(byte[] der)
    {
        var request = new AsnReader(der, AsnEncodingRules.BER).ReadSequence();
        var infoDer = request.PeekEncodedValue().ToArray();
        var info = request.ReadSequence();
        var algorithmDer = request.ReadEncodedValue();
        var signature = request.ReadBitString(out _);
        request.ThrowIfNotEmpty();

        info.ReadInteger();
        SubjectDer = info.ReadEncodedValue().ToArray();
        SubjectPublicKeyInfoDer = info.ReadEncodedValue().ToArray();
        var extensions = new List<RequestedExtension>();
        var attributesTag = new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true);
        if (info.HasData && info.PeekTag().HasSameClassAndValue(attributesTag))
        {
            var attributes = info.ReadSetOf(skipSortOrderValidation: true, attributesTag);
            while (attributes.HasData)
            {
                var attribute = attributes.ReadSequence();
                var oid = attribute.ReadObjectIdentifier();
                var values = attribute.ReadSetOf(skipSortOrderValidation: true);
                while (oid == X509Oids.ExtensionRequest && values.HasData)
                {
                    extensions.AddRange(CertificateExtension.ReadAll(values)
                        .Select(e => new RequestedExtension(e.Oid, e.Critical, e.Value)));
                }
            }
        }
        Extensions = extensions;
        var algorithm = SignatureAlgorithm.FromIdentifier(algorithmDer);
        SignatureIsValid = algorithm is not null && algorithm.Verify(SubjectPublicKeyInfoDer, infoDer, signature);
    }

    /// <summary>The subject Name's exact DER bytes.</summary>
    public byte[] SubjectDer { get; }

    public byte[] SubjectPublicKeyInfoDer { get; }

    /// <summary>The request is signed by the private key of the public key it carries (proof of possession).</summary>
    public bool SignatureIsValid { get; }

    /// <summary>The extensions of the extensionRequest attribute, in order.</summary>
    public IReadOnlyList<RequestedExtension> Extensions { get; }

    public static CertificateRequestInfo Parse(ReadOnlySpan<byte> der, string sourceName)
    {
        try
        {
            return new CertificateRequestInfo(der.ToArray());
        }
        catch (Exception e) when (e is AsnContentException or CryptographicException or ArgumentException)
        {
            throw new PkiException(
                $"{sourceName}: not a valid PKCS#10 certificate request ({e.Message}); make the request again", e);
        }
    }
}
