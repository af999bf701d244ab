using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace CertFleet.Bench;

/// <summary>
/// Cluster PKI made in-process with System.Security.Cryptography (no openssl per node): a CA and leaves as a
/// kubeadm or hard-way cluster has them (clientAuth, keyUsage, AKI = the CA's SKI).
/// </summary>
internal static class SyntheticPki
{
    public static AsymmetricAlgorithm NewKey(string keyType) => keyType switch
    {
        "rsa2048" => RSA.Create(2048),
        "ecdsa-p256" => ECDsa.Create(ECCurve.NamedCurves.nistP256),
        _ => throw new BenchException($"--key '{keyType}': give rsa2048 or ecdsa-p256"),
    };

    /// <summary>A self-signed CA certificate (with its private key attached) valid for a year from now.</summary>
    public static X509Certificate2 Authority(string commonName, AsymmetricAlgorithm key)
    {
        var request = Request($"CN={commonName}", key);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddDays(-400), now.AddDays(3650));
    }

    /// <summary>A client certificate for <paramref name="subject"/> issued by <paramref name="authority"/>, expiring in <paramref name="days"/>.</summary>
    public static byte[] ClientCertificate(X509Certificate2 authority, string subject, AsymmetricAlgorithm key, int days)
    {
        var request = Request(subject, key);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(authority, true, false));
        var now = DateTimeOffset.UtcNow;
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F; // positive, as RFC 5280 asks
        using var issued = request.Create(authority, now.AddDays(-300), now.AddDays(days), serial);
        return issued.RawData;
    }

    public static string PrivateKeyPem(AsymmetricAlgorithm key) => key.ExportPkcs8PrivateKeyPem();

    private static CertificateRequest Request(string subject, AsymmetricAlgorithm key) => key switch
    {
        RSA rsa => new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
        ECDsa ec => new CertificateRequest(subject, ec, HashAlgorithmName.SHA256),
        _ => throw new BenchException($"unsupported key {key.GetType().Name}"),
    };
}
