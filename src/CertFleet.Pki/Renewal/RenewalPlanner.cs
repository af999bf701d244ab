using System.Globalization;
using CertFleet.Pki.Certificates;
using CertFleet.Pki.Inventory;
using CertFleet.Pki.Keys;
using CertFleet.Pki.Signing;

namespace CertFleet.Pki.Renewal;

/// <summary>
/// Decides, from a node's inventory, what `renew --local` renews: every leaf that a CA whose key is on this
/// node issued and whose own key is here, and with --ca those CA certificates first. Everything else is
/// skipped with a reason. Each distinct certificate is renewed once and replaced everywhere it appears.
/// </summary>
public sealed class RenewalPlanner(TimeProvider time)
{
    public RenewalPlan Plan(NodeInventory inventory, RenewalOptions options)
    {
        var now = time.GetUtcNow();
        // the node's own keys first; a CA key from outside the root (--ca-key) signs as if it were here
        var keysByPublicKey = inventory.Certificates
            .Where(e => e.Key is not null)
            .Select(e => e.Key!)
            .Concat(options.OutsideKeys)
            .GroupBy(k => Convert.ToBase64String(k.SubjectPublicKeyInfoDer), StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        PrivateKey? KeyOf(CertificateInfo certificate) =>
            keysByPublicKey.GetValueOrDefault(Convert.ToBase64String(certificate.SubjectPublicKeyInfoDer));

        var authorities = new List<PlannedRenewal>();
        var leaves = new List<PlannedRenewal>();
        var skipped = new List<SkippedCertificate>();
        var warnings = new List<string>();
        var keyless = new List<CertificateEntry>();

        var groups = inventory.Certificates
            .GroupBy(e => e.Certificate.Sha256Fingerprint, StringComparer.Ordinal)
            // a file is a better name for a certificate than a kubeconfig holding a copy
            // (and a copy the kubelet rotated away from names it worst: the live copy decides who renews it)
            .Select(g => g.OrderBy(e => e.Owner == RenewalOwner.KubeletRotationHistory ? 1 : 0)
                .ThenBy(e => e.Location.Field is null ? 0 : 1).ThenBy(e => e.IsInBundle ? 1 : 0).ToList());
        foreach (var occurrences in groups)
        {
            var first = occurrences[0];
            var certificate = first.Certificate;
            if (first.Owner == RenewalOwner.KubeletSelfSigned)
            {
                // the kubelet never renews the serving pair it made; it is renewed self-signed with its own key
                if (KeyOf(certificate) is { } own)
                {
                    leaves.Add(new PlannedRenewal(certificate, occurrences, own, certificate, own,
                        RenewalValidity.NotAfter(certificate, now, options.LeafValidity)));
                }
                else
                {
                    keyless.Add(first);
                }
                continue;
            }
            var reason = SkipReason(occurrences, KeyOf);
            if (first.IsAuthority && !options.RenewAuthorities)
            {
                continue; // CA certificates change only when asked to (--ca)
            }
            var validity = certificate.IsCa ? options.AuthorityValidity : options.LeafValidity;
            if (reason is not null)
            {
                skipped.Add(new SkippedCertificate(first.Path, first.KubeconfigUser, certificate.Subject, reason));
                continue;
            }
            var issuer = first.IsSelfSigned ? certificate : first.IssuerCertificate!;
            var renewal = new PlannedRenewal(certificate, occurrences, KeyOf(certificate)!, issuer, KeyOf(issuer)!,
                RenewalValidity.NotAfter(certificate, now, validity));
            (certificate.IsCa ? authorities : leaves).Add(renewal);
        }

        // client-go's throwaway CA leaves the file with its leaf's self-signed renewal; a serving pair without its key stays
        var renewedFiles = leaves.Where(l => l.IsKubeletServing).Select(l => l.Occurrences[0].File.HostPath).ToHashSet(StringComparer.Ordinal);
        var removals = keyless.Where(e => renewedFiles.Contains(e.File.HostPath)).ToList();
        skipped.AddRange(keyless.Except(removals).Select(e => new SkippedCertificate(e.Path, e.KubeconfigUser, e.Certificate.Subject,
            "the kubelet's self-made serving certificate, but its key is not on this node; restore the key (or delete both and restart the kubelet, which makes a new pair)")));
        if (!options.RenewAuthorities)
        {
            warnings.AddRange(AuthorityExpiryWarnings(leaves.Where(l => !l.IsKubeletServing).ToList(), now));
        }
        // Parents before children, so an intermediate CA is signed by its renewed parent.
        authorities.Sort((a, b) => (a.IsSelfSigned ? 0 : 1).CompareTo(b.IsSelfSigned ? 0 : 1));
        var units = RestartOrder.Sort(authorities.Concat(leaves).SelectMany(r => r.Occurrences).SelectMany(o => o.UsedBy));
        return new RenewalPlan(authorities, leaves, skipped, warnings, units) { Removals = removals };
    }

    private static string? SkipReason(List<CertificateEntry> occurrences, Func<CertificateInfo, PrivateKey?> keyOf)
    {
        var first = occurrences[0];
        var certificate = first.Certificate;
        var live = occurrences.Where(o => o.Owner != RenewalOwner.KubeletRotationHistory).ToList();
        var owner = live.Count == 0 ? RenewalOwner.KubeletRotationHistory
            : live.Select(o => o.Owner).FirstOrDefault(o => o != RenewalOwner.CertFleet, RenewalOwner.CertFleet);
        switch (owner)
        {
            case RenewalOwner.KubeletRotation:
                return occurrences.Select(o => o.OwnerNote).FirstOrDefault(n => n is not null)
                    ?? "the kubelet rotates this certificate itself (--rotate-certificates); left alone";
            case RenewalOwner.KubeletRotationHistory:
                return (occurrences.Select(o => o.OwnerNote).FirstOrDefault(n => n is not null) ?? "a certificate the kubelet rotated earlier; nothing uses it")
                    + "; left alone";
            case RenewalOwner.SelfSigned:
                return "self-signed and not a CA: no CA issued it, so there is nothing to renew it with";
        }
        if (!first.IsSelfSigned && first.IssuerCertificate is null)
        {
            return $"issued by {certificate.Issuer}, which is not a CA certificate on this node; "
                + "give its CA from outside the node with --ca-cert F --ca-key F, or renew it through the coordinator";
        }
        var issuer = first.IsSelfSigned ? certificate : first.IssuerCertificate!;
        if (!first.IsSelfSigned && keyOf(issuer) is null)
        {
            return $"its CA {issuer.Subject} ({first.IssuerPath}) has no private key on this node; "
                + "give that CA's key with --ca-cert F --ca-key F (the node's files copied to where the key is), or renew it through the coordinator";
        }
        if (keyOf(certificate) is null)
        {
            var mismatch = occurrences.FirstOrDefault(o => o.KeyMatches == false);
            if (certificate.IsCa && first.IsSelfSigned)
            {
                return "the CA's private key is not on this node";
            }
            return mismatch is not null
                ? $"its key {mismatch.KeyPath} does not match it; restore the matching key (see `certfleet verify --local`)"
                : "no private key for it on this node";
        }
        return null;
    }

    private static IEnumerable<string> AuthorityExpiryWarnings(List<PlannedRenewal> leaves, DateTimeOffset now)
    {
        foreach (var group in leaves.GroupBy(l => l.Issuer.Sha256Fingerprint))
        {
            var issuer = group.First().Issuer;
            var newNotAfter = group.Max(l => l.NewNotAfter);
            if (issuer.NotAfter >= newNotAfter)
            {
                continue;
            }
            var path = group.First().Occurrences[0].IssuerPath;
            var when = issuer.NotAfter <= now ? "expired on" : "expires on";
            yield return string.Create(CultureInfo.InvariantCulture,
                $"CA {issuer.Subject} ({path}) {when} {issuer.NotAfter:yyyy-MM-dd}, before the renewed certificates "
                + $"({newNotAfter:yyyy-MM-dd}); they stay valid only with a renewed CA certificate: run again with --ca");
        }
    }
}
