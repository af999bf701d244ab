using System.Security.Cryptography.X509Certificates;
using CertFleet.Testing.Guides;

namespace CertFleet.EndToEnd.Tests.Rekey;

/// <summary>
/// A certificate found on a node (a PEM block of a file, or a kubeconfig's *-data field), parsed to tell CAs from
/// leaves and to match key identifiers; chains themselves are left to openssl.
/// </summary>
internal sealed record HeldCertificate(string Node, OracleCertificate Found, X509Certificate2 Certificate)
{
    public static List<HeldCertificate> Walk(string node, string root) =>
        [.. NodeCertificates.Walk(root, NodeKeyFiles.NotScanned).Select(f => new HeldCertificate(node, f, X509Certificate2.CreateFromPem(f.Pem)))];

    /// <summary>"master-1:/etc/kubernetes/admin.conf (user kubernetes-admin)".</summary>
    public string Where => $"{Node}:{Found}";

    /// <summary>Where it is on its node, the same before and after the re-key.</summary>
    public (string Path, string? User, string? Cluster) Location => (Found.Path, Found.KubeconfigUser, Found.KubeconfigCluster);

    public bool IsCa => Certificate.Extensions.OfType<X509BasicConstraintsExtension>().Any(b => b.CertificateAuthority);

    public string? AuthorityKeyId => Certificate.Extensions.OfType<X509AuthorityKeyIdentifierExtension>().FirstOrDefault()?.KeyIdentifier is { } id
        ? Convert.ToHexString(id.Span)
        : null;

    public static string? SubjectKeyId(X509Certificate2 certificate) =>
        certificate.Extensions.OfType<X509SubjectKeyIdentifierExtension>().FirstOrDefault()?.SubjectKeyIdentifier;

    public override string ToString() => $"{Where} ({Found.Subject}, key id {SubjectKeyId(Certificate)?[..8] ?? "none"})";
}
