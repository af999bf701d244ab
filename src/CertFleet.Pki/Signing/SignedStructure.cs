using System.Formats.Asn1;
using CertFleet.Pki.Keys;

namespace CertFleet.Pki.Signing;

/// <summary>The SEQUENCE { toBeSigned, signatureAlgorithm, signature } shape shared by certificates and CSRs.</summary>
internal static class SignedStructure
{
    /// <summary>
    /// <paramref name="algorithm"/> is the caller's: the issuer's choice for a certificate (which the TBS names too),
    /// the key's default for a CSR.
    /// </summary>
    public static byte[] Encode(byte[] toBeSigned, PrivateKey key, SignatureAlgorithm algorithm)
    {
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
