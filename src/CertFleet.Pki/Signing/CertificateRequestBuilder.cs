using System.Formats.Asn1;
using CertFleet.Pki.Certificates;
using CertFleet.Pki.Keys;

namespace CertFleet.Pki.Signing;

/// <summary>Makes the CSR that asks to renew an existing certificate, as `openssl x509 -x509toreq` would.</summary>
public static class CertificateRequestBuilder
{
    /// <summary>
    /// A PKCS#10 CSR (DER) signed by <paramref name="key"/>, with the certificate's subject DER copied byte-for-byte
    /// and its subjectAltName, keyUsage, extendedKeyUsage and basicConstraints requested unchanged.
    /// </summary>
    public static byte[] FromExistingCertificate(CertificateInfo certificate, PrivateKey key)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(key);
        if (!key.Matches(certificate))
        {
            throw new PkiException(
                $"{certificate.Subject}: the private key ({key.Description}) does not belong to this certificate; " +
                "point to the key file that was made with it");
        }
        var requested = certificate.Extensions.Where(e => X509Oids.Guarded.Contains(e.Oid)).ToList();

        var info = new AsnWriter(AsnEncodingRules.DER);
        using (info.PushSequence())
        {
            info.WriteInteger(0);
            info.WriteEncodedValue(certificate.SubjectDer);
            info.WriteEncodedValue(certificate.SubjectPublicKeyInfoDer);
            using (info.PushSetOf(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)))
            {
                if (requested.Count > 0)
                {
                    using (info.PushSequence())
                    {
                        info.WriteObjectIdentifier(X509Oids.ExtensionRequest);
                        using (info.PushSetOf())
                        using (info.PushSequence())
                        {
                            foreach (var extension in requested)
                            {
                                info.WriteEncodedValue(extension.Der);
                            }
                        }
                    }
                }
            }
        }
        var infoDer = info.Encode();
        return SignedStructure.Encode(infoDer, key, key.DefaultSignatureAlgorithm);
    }
}
