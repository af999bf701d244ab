using System.Formats.Asn1;
using CertFleet.Pki.Keys;

namespace CertFleet.Pki.Signing;

/// <summary>The SEQUENCE { toBeSigned, signatureAlgorithm, signature } shape shared by certificates and CSRs.</summary>
internal static class SignedStructure
{
    public static byte[] Encode(byte[] toBeSigned, PrivateKey key)
    {
        var algorithm = key.SignatureAlgorithm;
        var signature = algorithm.Sign(key.Algorithm, toBeSigned);
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteEncodedValue(toBeSigned);
            algorithm.WriteIdentifier(writer);
            writer.WriteBitString(signature);
        }
        return writer.Encode();
    }
}
