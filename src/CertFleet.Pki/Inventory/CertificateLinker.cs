using CertFleet.Pki.Certificates;
using CertFleet.Pki.Systemd;

namespace CertFleet.Pki.Inventory;

/// <summary>Turns what a scan read into entries: each certificate with its key, issuer, users and owner.</summary>
internal static class CertificateLinker
{
    private const string KubeletCertificateFolder = "/var/lib/kubelet/pki";

    public static List<CertificateEntry> Link(NodeScanner.ScanState scan, IReadOnlyList<SystemdUnit> units)
    {
        var keys = new KeyPairing(scan);
        var issuers = new IssuerLookup(scan.Certificates);
        var usage = new UnitUsage(scan, units);
        var kubeletFolders = KubeletFolders(scan, units);
        var perFile = scan.Certificates.GroupBy(c => (c.File.HostPath, c.Location.Field?.Value.Start))
            .ToDictionary(g => g.Key, g => g.Count());

        return scan.Certificates
            .Select(found =>
            {
                var key = keys.Find(found);
                var issuer = issuers.Find(found.Certificate);
                var selfSigned = (issuer is not null && issuer.Certificate.Sha256Fingerprint == found.Certificate.Sha256Fingerprint)
                    || (found.Certificate.IsSelfIssued && found.Certificate.IsIssuedBy(found.Certificate));
                return new CertificateEntry
                {
                    File = found.File,
                    Certificate = found.Certificate,
                    Location = found.Location,
                    KeyPath = key?.Path,
                    KeyMatches = key?.Matches,
                    Key = key is { Matches: true } ? key.Key : null,
                    IssuerCertificate = issuer?.Certificate,
                    IssuerPath = issuer?.File.Path,
                    UsedBy = usage.UnitsUsing(found),
                    Owner = OwnerOf(found, selfSigned, kubeletFolders),
                    IsSelfSigned = selfSigned,
                    IsInBundle = perFile[(found.File.HostPath, found.Location.Field?.Value.Start)] > 1,
                };
            })
            .OrderBy(e => e.Path, StringComparer.Ordinal)
            .ThenBy(e => e.Location.Field?.Value.Start ?? -1)
            .ThenBy(e => e.Location.Block.Start)
            .ToList();
    }

    private static HashSet<string> KubeletFolders(NodeScanner.ScanState scan, IReadOnlyList<SystemdUnit> units)
    {
        var folders = new HashSet<string>(StringComparer.Ordinal);
        var candidates = units.Select(u => u.GetSetting("--cert-dir")).OfType<string>().Append(KubeletCertificateFolder);
        foreach (var folder in candidates)
        {
            try
            {
                folders.Add(scan.Root.Resolve(folder));
            }
            catch (PkiException)
            {
                // a folder that cannot be resolved holds nothing we read
            }
        }
        return folders;
    }

    private static RenewalOwner OwnerOf(FoundCertificate found, bool selfSigned, HashSet<string> kubeletFolders)
    {
        var inKubeletFolder = kubeletFolders.Contains(Path.GetDirectoryName(found.File.HostPath) ?? "");
        var fileName = Path.GetFileName(found.File.Path);
        var isRotatedName = (fileName.StartsWith("kubelet-client-", StringComparison.Ordinal)
                || fileName.StartsWith("kubelet-server-", StringComparison.Ordinal))
            && fileName.EndsWith(".pem", StringComparison.Ordinal);
        if (inKubeletFolder && isRotatedName && found.Location.Field is null)
        {
            return RenewalOwner.KubeletRotation;
        }
        // The kubelet's own serving certificate is self-signed and, as openssl and client-go make it, often
        // marked CA:TRUE; it is the kubelet's, not a CA of the cluster.
        if (selfSigned && inKubeletFolder)
        {
            return RenewalOwner.KubeletSelfSigned;
        }
        if (selfSigned && !found.Certificate.IsCa)
        {
            return RenewalOwner.SelfSigned;
        }
        return RenewalOwner.CertFleet;
    }
}
