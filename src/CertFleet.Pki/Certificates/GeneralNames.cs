using System.Formats.Asn1;
using System.Net;

namespace CertFleet.Pki.Certificates;

/// <summary>Turns a subjectAltName value into strings like "DNS:localhost", "IP:127.0.0.1", "URI:spiffe://x".</summary>
internal static class GeneralNames
{
    public static IReadOnlyList<string> Format(byte[] extensionValue)
    {
        var names = new List<string>();
        var sequence = new AsnReader(extensionValue, AsnEncodingRules.BER).ReadSequence();
        while (sequence.HasData)
        {
            var tag = sequence.PeekTag();
            names.Add(tag.TagClass != TagClass.ContextSpecific
                ? "unknown:" + Convert.ToHexString(sequence.ReadEncodedValue().Span)
                : tag.TagValue switch
                {
                    1 => "email:" + sequence.ReadCharacterString(UniversalTagNumber.IA5String, tag),
                    2 => "DNS:" + sequence.ReadCharacterString(UniversalTagNumber.IA5String, tag),
                    6 => "URI:" + sequence.ReadCharacterString(UniversalTagNumber.IA5String, tag),
                    7 => "IP:" + FormatAddress(sequence.ReadOctetString(tag)),
                    4 => "DirName:" + DistinguishedName.Format(sequence.ReadSequence(tag).ReadEncodedValue()),
                    8 => "RID:" + sequence.ReadObjectIdentifier(tag),
                    0 => "othername:" + sequence.ReadSequence(tag).ReadObjectIdentifier(),
                    _ => "unknown:" + Convert.ToHexString(sequence.ReadEncodedValue().Span),
                });
        }
        return names;
    }

    private static string FormatAddress(byte[] address) =>
        address.Length is 4 or 16 ? new IPAddress(address).ToString() : Convert.ToHexString(address);
}
