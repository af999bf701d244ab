using CertFleet.Pki.Certificates;
using CertFleet.Pki.Signing;

namespace CertFleet.Pki.Renewal;

/// <summary>
/// Issues the new certificates of a plan in memory: CA certificates first (same key), then every leaf from a
/// CSR made with its own key, signed by its (possibly just renewed) CA. Nothing is written here.
/// </summary>
internal sealed class CertificateRenewer(TimeProvider time)
{
    private readonly CertificateIssuer _issuer = new(time);

    public IReadOnlyList<RenewedCertificate> Issue(RenewalPlan plan, RenewalOptions options)
    {
        // old CA fingerprint -> its renewed certificate, so leaves are signed by the new CA certificate
        var renewedAuthorities = new Dictionary<string, CertificateInfo>(StringComparer.Ordinal);
        var renewed = new List<RenewedCertificate>();
        foreach (var authority in plan.Authorities)
        {
            var next = authority.IsSelfSigned
                ? _issuer.RenewAuthority(new CertificateAuthority(authority.Current, authority.Key), options.AuthorityValidity)
                : IssueFromRequest(authority, renewedAuthorities, options.AuthorityValidity);
            renewedAuthorities[authority.Current.Sha256Fingerprint] = next;
            renewed.Add(new RenewedCertificate(authority, next));
        }
        foreach (var leaf in plan.Leaves)
        {
            var next = leaf.IsKubeletServing
                ? _issuer.RenewSelfSigned(leaf.Current, leaf.Key, options.LeafValidity)
                : IssueFromRequest(leaf, renewedAuthorities, options.LeafValidity);
            renewed.Add(new RenewedCertificate(leaf, next));
        }
        return renewed;
    }

    private CertificateInfo IssueFromRequest(PlannedRenewal renewal, Dictionary<string, CertificateInfo> renewedAuthorities, TimeSpan validity)
    {
        var issuer = renewedAuthorities.GetValueOrDefault(renewal.Issuer.Sha256Fingerprint) ?? renewal.Issuer;
        var authority = new CertificateAuthority(issuer, renewal.IssuerKey);
        var request = CertificateRequestBuilder.FromExistingCertificate(renewal.Current, renewal.Key);
        var next = _issuer.Renew(request, renewal.Current, authority, validity);
        // Belt and braces before anything touches the disk: the pair must match and chain.
        if (!renewal.Key.Matches(next) || !next.IsIssuedBy(issuer))
        {
            throw new InvalidOperationException($"renewed certificate for {renewal.Current.Subject} does not match its key or CA");
        }
        return next;
    }
}

/// <summary>A planned renewal and the certificate that replaces the current one.</summary>
public sealed record RenewedCertificate(PlannedRenewal Plan, CertificateInfo Certificate);
