using CertFleet.Pki.Certificates;

namespace CertFleet.Pki.Signing;

/// <summary>
/// A certificate with the CA that issued it, checked once: issuer name, key identifiers and the CA's signature
/// (<see cref="CertificateInfo.IsIssuedBy"/>). Only <see cref="Find"/> makes one, so what is built on it (a
/// <see cref="RenewalRequest"/>, then the issuer's signature) never checks that signature again.
/// </summary>
public sealed class IssuedCertificate
{
    private IssuedCertificate(CertificateInfo certificate, CertificateAuthority authority)
    {
        Certificate = certificate;
        Authority = authority;
    }

    public CertificateInfo Certificate { get; }

    public CertificateAuthority Authority { get; }

    /// <summary>The first of <paramref name="authorities"/> that issued <paramref name="certificate"/>, or null.</summary>
    public static IssuedCertificate? Find(CertificateInfo certificate, IEnumerable<CertificateAuthority> authorities)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(authorities);
        foreach (var authority in authorities)
        {
            if (certificate.IsIssuedBy(authority.Certificate))
            {
                return new IssuedCertificate(certificate, authority);
            }
        }
        return null;
    }
}
