using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CertFleet.Protocol.Trust;

namespace CertFleet.Coordinator.Identity;

/// <summary>
/// Builds the fleet's own certificates with System.Security.Cryptography: the fleet CA, the coordinator's server
/// certificate, the admin credential and agent identities. None of them is ever signed by a cluster CA.
/// </summary>
internal static class FleetCertificates
{
    public const string AuthorityName = "CN=certfleet fleet CA";
    public const string AdminCommonName = "certfleet-admin";
    public const string AdminOrganization = "certfleet:admins";

    private const string ClientAuthOid = "1.3.6.1.5.5.7.3.2";

    // a little slack so a peer whose clock is slightly behind accepts a certificate made just now
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    public static X509Certificate2 CreateAuthority(ECDsa key, DateTimeOffset now, TimeSpan validity)
    {
        var request = new CertificateRequest(AuthorityName, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(now - ClockSkew, now + validity);
    }

    public static X509Certificate2 CreateServer(X509Certificate2 authority, ECDsa authorityKey, PublicKey key,
        IEnumerable<string> hosts, DateTimeOffset now, TimeSpan validity)
    {
        var names = new SubjectAlternativeNameBuilder();
        foreach (var host in hosts.Distinct(StringComparer.OrdinalIgnoreCase))
        {
            if (System.Net.IPAddress.TryParse(host, out var ip))
            {
                names.AddIpAddress(ip);
            }
            else
            {
                names.AddDnsName(host);
            }
        }
        // the URI is what tells the coordinator apart from every agent identity the same CA issues (those have no SAN)
        names.AddUri(new Uri(CoordinatorIdentity.ServerUri));
        var request = Leaf(new X500DistinguishedName("CN=certfleet-coordinator"), key, authority, CoordinatorIdentity.ServerAuthOid);
        request.CertificateExtensions.Add(names.Build());
        return Sign(request, authority, authorityKey, now, validity);
    }

    public static X509Certificate2 CreateClient(X509Certificate2 authority, ECDsa authorityKey, X500DistinguishedName subject,
        PublicKey key, DateTimeOffset now, TimeSpan validity) =>
        Sign(Leaf(subject, key, authority, ClientAuthOid), authority, authorityKey, now, validity);

    public static X500DistinguishedName AdminSubject()
    {
        var builder = new X500DistinguishedNameBuilder();
        builder.AddOrganizationName(AdminOrganization);
        builder.AddCommonName(AdminCommonName);
        return builder.Build();
    }

    public static X500DistinguishedName NodeSubject(string node)
    {
        var builder = new X500DistinguishedNameBuilder();
        builder.AddCommonName(node);
        return builder.Build();
    }

    /// <summary>The single CN (or O) value of a name, or null when it has none or several.</summary>
    public static string? Attribute(X500DistinguishedName name, string oid)
    {
        string? found = null;
        foreach (var rdn in name.EnumerateRelativeDistinguishedNames())
        {
            if (!rdn.HasMultipleElements && rdn.GetSingleElementType().Value == oid)
            {
                if (found is not null)
                {
                    return null;
                }
                found = rdn.GetSingleElementValue();
            }
        }
        return found;
    }

    public static bool HasClientAuth(X509Certificate2 certificate) =>
        certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>()
            .Any(e => e.EnhancedKeyUsages.Cast<Oid>().Any(o => o.Value == ClientAuthOid));

    private static CertificateRequest Leaf(X500DistinguishedName subject, PublicKey key, X509Certificate2 authority, string usage)
    {
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(usage)], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(key, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(authority, true, false));
        return request;
    }

    private static X509Certificate2 Sign(CertificateRequest request, X509Certificate2 authority, ECDsa authorityKey,
        DateTimeOffset now, TimeSpan validity)
    {
        // 128 random bits, top bit clear so the INTEGER stays positive; never a counter
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] = (byte)((serial[0] & 0x7F) | 0x01);
        var notAfter = now + validity;
        if (notAfter > authority.NotAfter)
        {
            notAfter = authority.NotAfter;
        }
        return request.Create(authority.SubjectName, X509SignatureGenerator.CreateForECDsa(authorityKey),
            now - ClockSkew, notAfter, serial);
    }
}
