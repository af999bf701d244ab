using System.Formats.Asn1;

namespace CertFleet.Pki.Certificates;

/// <summary>
/// Whether bytes are DER and not merely BER. The Pki parser reads certificates as BER (files on disk may be sloppy),
/// but what a node reports is read again by parsers that insist on DER (X500DistinguishedName in the metrics labels
/// and the CLI's views, X509Certificate2): a report is checked to be strict DER at the coordinator's door, and again by the CLI for a coordinator that did not.
/// </summary>
public static class StrictDer
{
    private const int MaxDepth = 32;

    /// <summary>null when <paramref name="encoded"/> is exactly one DER element; else what breaks DER.</summary>
    public static string? Violation(ReadOnlyMemory<byte> encoded)
    {
        try
        {
            var reader = new AsnReader(encoded, AsnEncodingRules.DER);
            var tag = reader.PeekTag();
            ReadElement(reader, tag, 0);
            reader.ThrowIfNotEmpty();
            return null;
        }
        catch (AsnContentException e)
        {
            return e.Message;
        }
    }

    private static void ReadElement(AsnReader reader, Asn1Tag tag, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new AsnContentException($"nested deeper than {MaxDepth} levels");
        }
        if (tag.IsConstructed)
        {
            if (tag.TagClass == TagClass.Universal && tag.TagValue is (int)UniversalTagNumber.OctetString or (int)UniversalTagNumber.BitString
                or (int)UniversalTagNumber.UTF8String or (int)UniversalTagNumber.PrintableString or (int)UniversalTagNumber.IA5String)
            {
                throw new AsnContentException("a constructed string, which DER forbids");
            }
            // the DER reader refuses indefinite and non-minimal lengths; a SET's element order is not checked, as
            // Go's and OpenSSL's parsers do not check it either
            var inner = tag.TagClass == TagClass.Universal && tag.TagValue == (int)UniversalTagNumber.Set
                ? reader.ReadSetOf(skipSortOrderValidation: true)
                : reader.ReadSequence(tag.TagClass == TagClass.Universal ? null : tag);
            while (inner.HasData)
            {
                ReadElement(inner, inner.PeekTag(), depth + 1);
            }
            return;
        }
        if (tag.TagClass != TagClass.Universal)
        {
            reader.ReadEncodedValue();
            return;
        }
        // the typed readers check DER's content rules too (BOOLEAN 0xFF, BIT STRING padding, time formats)
        switch ((UniversalTagNumber)tag.TagValue)
        {
            case UniversalTagNumber.Boolean:
                reader.ReadBoolean();
                break;
            case UniversalTagNumber.Integer:
                reader.ReadIntegerBytes();
                break;
            case UniversalTagNumber.BitString:
                reader.ReadBitString(out _);
                break;
            case UniversalTagNumber.OctetString:
                reader.ReadOctetString();
                break;
            case UniversalTagNumber.Null:
                reader.ReadNull();
                break;
            case UniversalTagNumber.ObjectIdentifier:
                reader.ReadObjectIdentifier();
                break;
            case UniversalTagNumber.UtcTime:
                reader.ReadUtcTime();
                break;
            case UniversalTagNumber.GeneralizedTime:
                reader.ReadGeneralizedTime();
                break;
            default:
                reader.ReadEncodedValue();
                break;
        }
    }
}
