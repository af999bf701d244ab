using System.Formats.Asn1;
using System.Text;

namespace CertFleet.Pki.Certificates;

/// <summary>Formats a Name the way `openssl x509 -nameopt RFC2253` prints it (so outputs can be compared with openssl).</summary>
internal static class DistinguishedName
{
    private static readonly Dictionary<string, string> ShortNames = new()
    {
        ["2.5.4.3"] = "CN", ["2.5.4.6"] = "C", ["2.5.4.7"] = "L", ["2.5.4.8"] = "ST", ["2.5.4.9"] = "street",
        ["2.5.4.10"] = "O", ["2.5.4.11"] = "OU", ["2.5.4.4"] = "SN", ["2.5.4.42"] = "GN", ["2.5.4.12"] = "title",
        ["2.5.4.5"] = "serialNumber", ["2.5.4.43"] = "initials", ["2.5.4.44"] = "generationQualifier",
        ["2.5.4.46"] = "dnQualifier", ["2.5.4.65"] = "pseudonym", ["2.5.4.41"] = "name", ["2.5.4.17"] = "postalCode",
        ["2.5.4.15"] = "businessCategory", ["2.5.4.13"] = "description",
        ["0.9.2342.19200300.100.1.25"] = "DC", ["0.9.2342.19200300.100.1.1"] = "UID",
        ["1.2.840.113549.1.9.1"] = "emailAddress",
    };

    public static string Format(ReadOnlyMemory<byte> nameDer)
    {
        var entries = new List<(int Set, string Text)>();
        var name = new AsnReader(nameDer, AsnEncodingRules.BER).ReadSequence();
        for (var setIndex = 0; name.HasData; setIndex++)
        {
            var rdn = name.ReadSetOf(skipSortOrderValidation: true);
            while (rdn.HasData)
            {
                var attribute = rdn.ReadSequence();
                var oid = attribute.ReadObjectIdentifier();
                var value = attribute.ReadEncodedValue();
                entries.Add((setIndex, FormatAttribute(oid, value)));
            }
        }
        // openssl's dn_rev reverses the flat list of attributes, multi-valued RDNs included.
        entries.Reverse();
        var builder = new StringBuilder();
        for (var i = 0; i < entries.Count; i++)
        {
            if (i > 0)
            {
                builder.Append(entries[i].Set == entries[i - 1].Set ? '+' : ',');
            }
            builder.Append(entries[i].Text);
        }
        return builder.ToString();
    }

    private static string FormatAttribute(string oid, ReadOnlyMemory<byte> value)
    {
        if (!ShortNames.TryGetValue(oid, out var shortName))
        {
            return oid + "=#" + Convert.ToHexString(value.Span);
        }
        var text = ReadString(value);
        return shortName + "=" + (text is null ? "#" + Convert.ToHexString(value.Span) : Escape(text));
    }

    private static string? ReadString(ReadOnlyMemory<byte> value)
    {
        var reader = new AsnReader(value, AsnEncodingRules.BER);
        var tag = reader.PeekTag();
        if (tag.TagClass != TagClass.Universal)
        {
            return null;
        }
        var type = (UniversalTagNumber)tag.TagValue;
        try
        {
            return type switch
            {
                UniversalTagNumber.UTF8String or UniversalTagNumber.PrintableString or UniversalTagNumber.IA5String
                    or UniversalTagNumber.BMPString or UniversalTagNumber.UniversalString
                    or UniversalTagNumber.VisibleString or UniversalTagNumber.NumericString
                    => reader.ReadCharacterString(type),
                // openssl shows T61String bytes as Latin-1
                UniversalTagNumber.T61String => System.Text.Encoding.Latin1.GetString(reader.ReadOctetString(new Asn1Tag(UniversalTagNumber.T61String))),
                _ => null,
            };
        }
        catch (AsnContentException)
        {
            return null;
        }
    }

    // RFC 2253 escapes as openssl applies them (esc_2253, esc_ctrl, esc_msb on the UTF-8 bytes).
    private static string Escape(string text)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(text);
        var builder = new StringBuilder(bytes.Length + 8);
        for (var i = 0; i < bytes.Length; i++)
        {
            var b = bytes[i];
            var c = (char)b;
            if (b >= 0x80 || b < 0x20 || b == 0x7F)
            {
                builder.Append('\\').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
            else if (c is ',' or '+' or '"' or '\\' or '<' or '>' or ';'
                     || (i == 0 && c is ' ' or '#')
                     || (i == bytes.Length - 1 && c == ' '))
            {
                builder.Append('\\').Append(c);
            }
            else
            {
                builder.Append(c);
            }
        }
        return builder.ToString();
    }
}
