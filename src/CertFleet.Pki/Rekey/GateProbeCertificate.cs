using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CertFleet.Pki.Certificates;
using CertFleet.Pki.Keys;
using CertFleet.Pki.Signing;

namespace CertFleet.Pki.Rekey;

/// <summary>
/// A re-key gate's client certificate: for a throwaway key made on a master (its CSR, signature checked), signed by
/// an old or a new CA, client authentication only, valid for <see cref="Validity"/>. It names no Kubernetes user or
/// group ("certfleet:gate-probe"), so the apiserver authorises nothing for it; it proves only that the CA is trusted.
/// </summary>
public static class GateProbeCertificate
{
    public const string CommonName = "certfleet:gate-probe";

    public static readonly TimeSpan Validity = TimeSpan.FromMinutes(15);

    private const int MaxCsrBytes = 16 * 1024;

    public static CertificateInfo Issue(ReadOnlySpan<byte> csrDer, CertificateAuthority authority, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(authority);
        ArgumentNullException.ThrowIfNull(time);
        if (csrDer.Length is 0 or > MaxCsrBytes)
        {
            throw new PkiException($"the gate's probe CSR is {csrDer.Length} bytes; expected a PKCS#10 request under {MaxCsrBytes}");
        }
        byte[] publicKey;
        try
        {
            // LoadSigningRequest checks the request's signature with the key it carries: the node holds that key
            publicKey = CertificateRequest.LoadSigningRequest(csrDer.ToArray(), HashAlgorithmName.SHA256, out _).PublicKey.ExportSubjectPublicKeyInfo();
        }
        catch (CryptographicException e)
        {
            throw new PkiException($"the gate's probe CSR is not a valid signed PKCS#10 request ({e.Message})", e);
        }
        var subject = new X500DistinguishedNameBuilder();
        subject.AddCommonName(CommonName);
        var now = time.GetUtcNow();
        var extensions = new List<CertificateExtension>
        {
            CertificateExtension.Create("2.5.29.19", true, [0x30, 0x00]),                 // basicConstraints: not a CA
            CertificateExtension.Create("2.5.29.15", true, [0x03, 0x02, 0x07, 0x80]),     // keyUsage: digitalSignature
            CertificateExtension.Create("2.5.29.37", false, [0x30, 0x0A, 0x06, 0x08, 0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02]), // clientAuth
        };
        if (authority.Certificate.SubjectKeyIdentifier is { } keyId)
        {
            var writer = new AsnWriter(AsnEncodingRules.DER);
            using (writer.PushSequence())
            {
                writer.WriteOctetString(keyId, new Asn1Tag(TagClass.ContextSpecific, 0));
            }
            extensions.Add(CertificateExtension.Create("2.5.29.35", false, writer.Encode()));
        }
        var template = new CertificateTemplate(SerialNumbers.NewSerial(default), authority.Certificate.SubjectDer, now - TimeSpan.FromMinutes(5),
            now + Validity, subject.Build().RawData, publicKey, extensions, SignatureAlgorithm.For(authority.Key.Algorithm));
        return template.Sign(authority.Key, $"gate probe under {authority.Certificate.Subject}");
    }
}
