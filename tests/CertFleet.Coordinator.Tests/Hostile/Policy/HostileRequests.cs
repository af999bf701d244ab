using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CertFleet.Pki.Certificates;
using CertFleet.Pki.Keys;
using CertFleet.Pki.Signing;

namespace CertFleet.Coordinator.Tests.Hostile.Policy;

/// <summary>What a compromised agent might send instead of an honest renewal request.</summary>
public enum Tamper
{
    AnotherSubject,
    ExtraSan,
    AnotherKey,
    CaTrue,
    BrokenSignature,
    /// <summary>Asks for an extension the certificate does not carry (here a Netscape comment): more than a renewal gives.</summary>
    ExtraExtension,
}

/// <summary>Builds hostile CSRs in-process (System.Security.Cryptography) from a certificate and the node's key.</summary>
internal static class HostileRequests
{
    /// <summary>The refusal reason's telling words for each tamper.</summary>
    public static string ExpectedReason(Tamper tamper) => tamper switch
    {
        Tamper.AnotherSubject => "a renewal keeps the subject",
        Tamper.ExtraSan => "a renewal keeps names and usages",
        Tamper.AnotherKey => "different public key",
        Tamper.CaTrue => "CA:TRUE",
        Tamper.BrokenSignature => "signature does not verify",
        Tamper.ExtraExtension => "2.16.840.1.113730.1.13",
        _ => throw new ArgumentOutOfRangeException(nameof(tamper)),
    };

    public static byte[] Make(Tamper tamper, CertificateInfo certificate, PrivateKey key)
    {
        switch (tamper)
        {
            case Tamper.AnotherSubject:
                return Request(new X500DistinguishedName("O=system:masters, CN=kubernetes-admin"), certificate, key.Algorithm, _ => { });
            case Tamper.ExtraSan:
                return Request(Subject(certificate), certificate, key.Algorithm, extensions =>
                {
                    extensions.RemoveAll(e => e.Oid?.Value == "2.5.29.17");
                    var names = new SubjectAlternativeNameBuilder();
                    names.AddDnsName("kubernetes.default.svc");
                    extensions.Add(names.Build());
                });
            case Tamper.AnotherKey:
                using (var other = ECDsa.Create(ECCurve.NamedCurves.nistP256))
                {
                    return Request(Subject(certificate), certificate, other, _ => { });
                }
            case Tamper.CaTrue:
                return Request(Subject(certificate), certificate, key.Algorithm, extensions =>
                {
                    extensions.RemoveAll(e => e.Oid?.Value == "2.5.29.19");
                    extensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
                });
            case Tamper.ExtraExtension:
                return Request(Subject(certificate), certificate, key.Algorithm, extensions =>
                    extensions.Add(new X509Extension("2.16.840.1.113730.1.13", [0x16, 0x0b, .. "more please"u8], false)));
            case Tamper.BrokenSignature:
                var honest = CertificateRequestBuilder.FromExistingCertificate(certificate, key);
                honest[^1] ^= 0x01; // the last byte of the signature value
                return honest;
            default:
                throw new ArgumentOutOfRangeException(nameof(tamper));
        }
    }

    private static X500DistinguishedName Subject(CertificateInfo certificate) => new(certificate.SubjectDer);

    private static byte[] Request(X500DistinguishedName subject, CertificateInfo certificate, AsymmetricAlgorithm key, Action<List<X509Extension>> change)
    {
        using var current = X509CertificateLoader.LoadCertificate(certificate.Der);
        // every extension of the certificate, as `openssl x509 -x509toreq -copy_extensions copyall` asks: all of them its own
        var extensions = current.Extensions.Cast<X509Extension>().ToList();
        change(extensions);
        var request = key switch
        {
            ECDsa ecdsa => new CertificateRequest(subject, ecdsa, HashAlgorithmName.SHA256),
            RSA rsa => new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
            _ => throw new ArgumentException("not an RSA or ECDSA key", nameof(key)),
        };
        foreach (var extension in extensions)
        {
            request.CertificateExtensions.Add(extension);
        }
        return request.CreateSigningRequest();
    }

    /// <summary>A CA the coordinator does not hold, and a kubelet certificate for <paramref name="node"/> it issued.</summary>
    public static (byte[] CertificateDer, ECDsa Key) FromForeignCa(string node, DateTimeOffset now)
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=kubernetes", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        using var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddYears(1));
        var leafKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var leafRequest = new CertificateRequest($"O=system:nodes, CN=system:node:{node}", leafKey, HashAlgorithmName.SHA256);
        leafRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        leafRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        using var leaf = leafRequest.Create(ca, now.AddDays(-1), now.AddDays(10), [1, 2, 3, 4, 5, 6, 7, 8]);
        return (leaf.RawData, leafKey);
    }
}
