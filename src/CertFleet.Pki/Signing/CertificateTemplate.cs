using System.Formats.Asn1;
using CertFleet.Pki.Certificates;
using CertFleet.Pki.Keys;

namespace CertFleet.Pki.Signing;

/// <summary>
/// The fields of a certificate to sign. Names, key and unchanged extensions are written as the exact DER they
/// came with, so string types, attribute order and critical flags never change on renewal.
/// </summary>
internal sealed record CertificateTemplate(
    byte[] SerialNumber,
    byte[] IssuerDer,
    DateTimeOffset NotBefore,
    DateTimeOffset NotAfter,
    byte[] SubjectDer,
    byte[] SubjectPublicKeyInfoDer,
    IReadOnlyList<CertificateExtension> Extensions,
    SignatureAlgorithm SignatureAlgorithm)
{
    /// <summary>RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.</summary>
    private static readonly DateTimeOffset GeneralizedTimeFrom = new(2050, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public CertificateInfo Sign(PrivateKey issuerKey, string sourceName)
    {
        var tbs = new AsnWriter(AsnEncodingRules.DER);
        using (tbs.PushSequence())
        {
            using (tbs.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)))
            {
                tbs.WriteInteger(2); // v3
            }
            tbs.WriteIntegerUnsigned(SerialNumber);
            SignatureAlgorithm.WriteIdentifier(tbs);
            tbs.WriteEncodedValue(IssuerDer);
            using (tbs.PushSequence())
            {
                WriteTime(tbs, NotBefore);
                WriteTime(tbs, NotAfter);
            }
            tbs.WriteEncodedValue(SubjectDer);
            tbs.WriteEncodedValue(SubjectPublicKeyInfoDer);
            if (Extensions.Count > 0)
            {
                using (tbs.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 3, isConstructed: true)))
                using (tbs.PushSequence())
                {
                    foreach (var extension in Extensions)
                    {
                        tbs.WriteEncodedValue(extension.Der);
                    }
                }
            }
        }
        return CertificateInfo.Parse(SignedStructure.Encode(tbs.Encode(), issuerKey, SignatureAlgorithm), sourceName);
    }

    private static void WriteTime(AsnWriter writer, DateTimeOffset value)
    {
        // whole seconds: certificates carry no fractions and openssl prints none
        var utc = value.ToUniversalTime();
        utc = utc.AddTicks(-(utc.Ticks % TimeSpan.TicksPerSecond));
        if (utc < GeneralizedTimeFrom)
        {
            writer.WriteUtcTime(utc);
        }
        else
        {
            writer.WriteGeneralizedTime(utc, omitFractionalSeconds: true);
        }
    }
}
