using System.Formats.Asn1;
using CertFleet.Pki.Files;
using CertFleet.Pki.Inventory;
using CertFleet.Protocol.V1;
using CertFleet.Testing;
using Google.Protobuf;
using CertFleet.Coordinator.Tests.Rollouts;

namespace CertFleet.Coordinator.Tests.Hostile.Reports;

/// <summary>What a compromised agent might report instead of an honest inventory.</summary>
internal static class HostileReports
{
    /// <summary>The node's honest report, scanned from its fixture folder.</summary>
    public static InventoryReport Honest(ClusterPkiFixture fixture, string node)
    {
        using var scanned = new NodeScanner(TimeProvider.System).Scan(new NodeRoot(fixture.NodeRoot(node)));
        return InventoryReports.From(scanned);
    }

    /// <summary>
    /// The same certificate in valid BER that is not DER: the issuer Name's length in a four-byte long form (DER wants
    /// the shortest). The signature no longer verifies, which nothing reading labels checks.
    /// </summary>
    public static byte[] BerNotDer(byte[] der)
    {
        var certificate = new AsnReader(der, AsnEncodingRules.DER).ReadSequence();
        var tbs = certificate.ReadSequence();
        var signatureAlgorithm = certificate.ReadEncodedValue().ToArray();
        var signature = certificate.ReadEncodedValue().ToArray();
        var fields = new List<byte[]>();
        if (tbs.PeekTag().HasSameClassAndValue(new Asn1Tag(TagClass.ContextSpecific, 0)))
        {
            fields.Add(tbs.ReadEncodedValue().ToArray()); // version
        }
        fields.Add(tbs.ReadEncodedValue().ToArray()); // serial
        fields.Add(tbs.ReadEncodedValue().ToArray()); // signature algorithm
        fields.Add(LongFormLength(tbs.ReadEncodedValue().ToArray())); // issuer
        while (tbs.HasData)
        {
            fields.Add(tbs.ReadEncodedValue().ToArray());
        }
        var tbsDer = Tlv(0x30, [.. fields.SelectMany(f => f)]);
        return Tlv(0x30, [.. tbsDer, .. signatureAlgorithm, .. signature]);
    }

    /// <summary>Four bytes that start like a certificate: a SEQUENCE holding a NULL.</summary>
    public static readonly byte[] FourBytes = [0x30, 0x02, 0x05, 0x00];

    public static ReportedCertificate Entry(string path, byte[] der) => new()
    {
        Path = path, Der = ByteString.CopyFrom(der), KeyState = KeyState.NotFound, Owner = CertificateOwner.Certfleet,
    };

    private static byte[] LongFormLength(byte[] tlv)
    {
        // one tag byte; short or long form length
        var headerLength = (tlv[1] & 0x80) == 0 ? 2 : 2 + (tlv[1] & 0x7F);
        var content = tlv[headerLength..];
        return [tlv[0], 0x84, (byte)(content.Length >> 24), (byte)(content.Length >> 16), (byte)(content.Length >> 8), (byte)content.Length, .. content];
    }

    private static byte[] Tlv(byte tag, byte[] content)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        writer.WriteOctetString(content);
        var encoded = writer.Encode();
        encoded[0] = tag; // the OCTET STRING's minimal length header, under this tag
        return encoded;
    }
}
