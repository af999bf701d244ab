using CertFleet.Pki.Systemd;

namespace CertFleet.Pki.Inventory;

/// <summary>Turns what a scan read into entries: each certificate with its key, issuer, users and owner.</summary>
internal static class CertificateLinker
{
    public static List<CertificateEntry> Link(ScanState scan, IReadOnlyList<SystemdUnit> units, DateTimeOffset now, IReadOnlyList<TrustedAuthority> outside)
    {
        var keys = new KeyPairing(scan);
        var issuers = new IssuerLookup(scan.Certificates);
        var usage = new UnitUsage(scan, units);
        var kubelet = new KubeletFiles(scan.Root, units);
        var perFile = scan.Certificates.GroupBy(c => (c.File.HostPath, c.Location.Field?.Value.Start))
            .ToDictionary(g => g.Key, g => g.Count());
        var issuerOf = new Dictionary<FoundCertificate, FoundCertificate?>(ReferenceEqualityComparer.Instance);
        foreach (var found in scan.Certificates)
        {
            issuerOf[found] = issuers.Find(found.Certificate);
        }
        // a CA is a CA of the node when it issued a certificate kept in another file, or something trusts it as a CA
        var issuedElsewhere = issuerOf
            .Where(p => p.Value is { } issuer && issuer.File.HostPath != p.Key.File.HostPath)
            .Select(p => p.Value!.Certificate.Sha256Fingerprint)
            .ToHashSet(StringComparer.Ordinal);
        var namedAsCa = NamedAsCa(scan, units);
        var referenced = Referenced(scan, units);

        bool IsSelfSigned(FoundCertificate found) =>
            (issuerOf[found] is { } issuer && issuer.Certificate.Sha256Fingerprint == found.Certificate.Sha256Fingerprint)
            || (found.Certificate.IsSelfIssued && found.Certificate.IsIssuedBy(found.Certificate));
        bool IsTrustedAsCa(FoundCertificate found) =>
            issuedElsewhere.Contains(found.Certificate.Sha256Fingerprint) || namedAsCa.Contains(found.File.HostPath);
        // what the kubelet makes for itself: a self-signed certificate, or one issued by a self-signed certificate of the
        // same file (client-go writes the leaf, then the throwaway CA whose key it drops), trusted as a CA by nothing else
        bool IsSelfMade(FoundCertificate found) =>
            !IsTrustedAsCa(found) && (IsSelfSigned(found)
                || (issuerOf[found] is { } issuer && issuer.File.HostPath == found.File.HostPath && IsSelfSigned(issuer) && !IsTrustedAsCa(issuer)));

        return scan.Certificates
            .Select(found =>
            {
                var key = keys.Find(found);
                var issuer = issuerOf[found];
                // a CA given from outside the root issues only what no CA of the node issued
                var outsideIssuer = issuer is null && !found.Certificate.IsSelfIssued
                    ? outside.FirstOrDefault(o => found.Certificate.IsIssuedBy(o.Certificate))
                    : null;
                var selfSigned = IsSelfSigned(found);
                var ownership = kubelet.OwnerOf(found, IsSelfMade(found), referenced.Contains(found.File.HostPath), now)
                    ?? new Ownership(selfSigned && !found.Certificate.IsCa ? RenewalOwner.SelfSigned : RenewalOwner.CertFleet);
                return new CertificateEntry
                {
                    File = found.File,
                    Certificate = found.Certificate,
                    Location = found.Location,
                    KeyPath = key?.Path,
                    KeyMatches = key?.Matches,
                    Key = key is { Matches: true } ? key.Key : null,
                    IssuerCertificate = issuer?.Certificate ?? outsideIssuer?.Certificate,
                    IssuerPath = issuer?.File.Path ?? outsideIssuer?.Source,
                    // an old dated file the kubelet left behind is in its --cert-dir, but nothing reads it
                    UsedBy = ownership.Owner == RenewalOwner.KubeletRotationHistory ? [] : usage.UnitsUsing(found, kubelet),
                    Owner = ownership.Owner,
                    OwnerNote = ownership.Note,
                    RotationLink = ownership.RotationLink,
                    IsSelfSigned = selfSigned,
                    IsInBundle = perFile[(found.File.HostPath, found.Location.Field?.Value.Start)] > 1,
                };
            })
            .OrderBy(e => e.Path, StringComparer.Ordinal)
            .ThenBy(e => e.Location.Field?.Value.Start ?? -1)
            .ThenBy(e => e.Location.Block.Start)
            .ToList();
    }

    /// <summary>Host paths of files a unit setting or a kubeconfig's certificate-authority names as a CA.</summary>
    private static HashSet<string> NamedAsCa(ScanState scan, IReadOnlyList<SystemdUnit> units)
    {
        var named = new HashSet<string>(StringComparer.Ordinal);
        foreach (var reference in units.SelectMany(u => u.FileReferences).Where(r => FileReferenceFinder.IsAboutCa(r.Setting)))
        {
            if (TryResolve(scan, reference.Path) is { } host)
            {
                named.Add(host);
            }
        }
        named.UnionWith(scan.KubeconfigReferences.Where(r => r.IsCluster).Select(r => r.CertificateHostPath).OfType<string>());
        return named;
    }

    /// <summary>Host paths of files a unit setting or a kubeconfig names directly.</summary>
    private static HashSet<string> Referenced(ScanState scan, IReadOnlyList<SystemdUnit> units)
    {
        var named = units.SelectMany(u => u.FileReferences).Select(r => TryResolve(scan, r.Path)).OfType<string>()
            .ToHashSet(StringComparer.Ordinal);
        foreach (var reference in scan.KubeconfigReferences)
        {
            named.UnionWith(new[] { reference.Certificate, reference.Key }.OfType<ReferencedFile>()
                // a kubeconfig naming kubelet-client-current.pem uses the file the link leads to, not the file itself
                .Where(f => !scan.Root.IsSymlink(f.NodePath)).Select(f => f.HostPath));
        }
        return named;
    }

    private static string? TryResolve(ScanState scan, string nodePath)
    {
        try
        {
            return scan.Root.Resolve(nodePath);
        }
        catch (PkiException)
        {
            return null;
        }
    }
}
