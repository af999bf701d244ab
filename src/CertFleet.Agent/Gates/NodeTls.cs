using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using CertFleet.Pki;
using CertFleet.Pki.Certificates;
using CertFleet.Pki.Files;
using CertFleet.Pki.PemEncoding;

namespace CertFleet.Agent.Gates;

/// <summary>TLS material read from the node (under --root) for probes: client certificates, trusted CAs, serials on disk.</summary>
internal static class NodeTls
{
    private const long MaxBytes = 1 << 20;

    public static X509Certificate2 ClientCertificate(NodeRoot root, string certificatePath, string keyPath)
    {
        try
        {
            return X509Certificate2.CreateFromPem(Text(root, certificatePath), Text(root, keyPath));
        }
        catch (CryptographicException e)
        {
            throw new PkiException($"{certificatePath} with {keyPath}: not a usable client certificate and key ({e.Message})", e);
        }
    }

    public static X509Certificate2Collection Authorities(NodeRoot root, string caPath)
    {
        var collection = new X509Certificate2Collection();
        collection.ImportFromPem(Text(root, caPath));
        return collection;
    }

    /// <summary>The first certificate in a PEM file: what the unit serves when it has (re)read the file.</summary>
    public static CertificateInfo FirstCertificate(NodeRoot root, string path)
    {
        var block = Pem.Read(Text(root, path), path).FirstOrDefault(b => b.Label == "CERTIFICATE")
            ?? throw new PkiException($"{path}: holds no certificate");
        return CertificateInfo.Parse(block.Der, path);
    }

    /// <summary>Accepts a server certificate that chains to one of <paramref name="authorities"/>; the name is not checked (the probe dials what the unit advertises).</summary>
    public static RemoteCertificateValidationCallback TrustOnly(X509Certificate2Collection authorities) => (_, certificate, _, _) =>
    {
        if (certificate is not X509Certificate2 server)
        {
            return false;
        }
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        return chain.Build(server);
    };

    private static string Text(NodeRoot root, string path)
    {
        var bytes = root.ReadAllBytes(path, MaxBytes) ?? throw new PkiException($"{path}: does not exist on this node");
        return Encoding.UTF8.GetString(bytes);
    }
}
