using System.Formats.Asn1;

namespace CertFleet.Pki.Certificates;

/// <summary>One X.509 extension; Der is its exact encoding so an unchanged extension is copied byte-for-byte.</summary>
internal sealed record CertificateExtension(string Oid, bool Critical, byte[] Value, byte[] Der)
{
    public static CertificateExtension Create(string oid, bool critical, byte[] value)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier(oid);
            if (critical)
            {
                writer.WriteBoolean(true);
            }
            writer.WriteOctetString(value);
        }
        return new CertificateExtension(oid, critical, value, writer.Encode());
    }

    /// <summary>Reads an Extensions SEQUENCE OF Extension.</summary>
    public static IReadOnlyList<CertificateExtension> ReadAll(AsnReader extensionsSequence)
    {
        var list = new List<CertificateExtension>();
        var sequence = extensionsSequence.ReadSequence();
        while (sequence.HasData)
        {
            var der = sequence.PeekEncodedValue().ToArray();
            var extension = sequence.ReadSequence();
            var oid = extension.ReadObjectIdentifier();
            var critical = extension.PeekTag().HasSameClassAndValue(Asn1Tag.Boolean) && extension.ReadBoolean();
            var value = extension.ReadOctetString();
            extension.ThrowIfNotEmpty();
            list.Add(new CertificateExtension(oid, critical, value, der));
        }
        return list;
    }

    public bool SameAs(CertificateExtension? other) =>
        other is not null && Oid == other.Oid && Critical == other.Critical && Value.AsSpan().SequenceEqual(other.Value);
}
