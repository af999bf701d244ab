using CertFleet.Pki.Certificates;
using CertFleet.Pki.Inventory;
using CertFleet.Pki.Systemd;

namespace CertFleet.Pki.Rekey;

/// <summary>
/// Lists, from a node's inventory, every place that holds one CA (by name and key, so renewed copies count) and
/// what it does with it: files a unit names as a CA to trust (--client-ca-file, --trusted-ca-file,
/// --peer-trusted-ca-file, ETCD_TRUSTED_CA_FILE, kubelet authentication.x509.clientCAFile,
/// --requestheader-client-ca-file, --root-ca-file, --kubelet-certificate-authority, --etcd-cafile, --cacert), a
/// kubeconfig's certificate-authority file or certificate-authority-data; places that sign with it
/// (kube-controller-manager's --cluster-signing-cert-file, a CA file with its key beside it); and the leaves it
/// issued. What a re-key cannot rotate is named as a <see cref="RekeyProblem"/>.
/// </summary>
public static class TrustAnchors
{
    public static NodeTrustAnchors Find(NodeInventory inventory, CertificateInfo authority)
    {
        ArgumentNullException.ThrowIfNull(inventory);
        ArgumentNullException.ThrowIfNull(authority);
        var holders = inventory.Certificates.Where(e => TrustBundle.IsSameAuthority(e.Certificate, authority)).ToList();
        var holderFiles = holders.Where(e => e.Location.Field is null)
            .GroupBy(e => e.File.HostPath, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var readFiles = inventory.Certificates.Select(e => e.File.HostPath).ToHashSet(StringComparer.Ordinal);
        var anchors = new Anchors();
        var problems = new List<RekeyProblem>();

        void NamedFile(string nodePath, TrustAnchorKind kind, IEnumerable<string> units, string namedBy, string who)
        {
            string host;
            try
            {
                host = inventory.Root.Resolve(nodePath);
            }
            catch (PkiException e)
            {
                problems.Add(new RekeyProblem(nodePath, $"{who} names it as a CA file ({namedBy}) but it is outside what the " +
                    $"node's scan can reach ({e.Message}); if it holds '{authority.Subject}', CertFleet cannot rotate it: change it by hand"));
                return;
            }
            if (holderFiles.TryGetValue(host, out var entry))
            {
                anchors.Add(entry.Path, null, kind, units, namedBy);
            }
            else if (!readFiles.Contains(host))
            {
                var error = inventory.Errors.FirstOrDefault(e => e.Path == nodePath)?.Message ?? "missing, or no certificate in it";
                problems.Add(new RekeyProblem(nodePath, $"{who} names it as a CA file ({namedBy}) but it could not be read ({error}); " +
                    $"whether it trusts '{authority.Subject}' is unknown, so CertFleet cannot rotate it"));
            }
        }

        foreach (var unit in inventory.Units)
        {
            foreach (var reference in unit.FileReferences)
            {
                if (KindOf(reference.Setting) is { } kind)
                {
                    NamedFile(reference.Path, kind, [unit.Name], $"{unit.Name}: {reference.Where}", unit.Name);
                }
            }
        }

        var unitsByFile = UnitsByFile(inventory);
        foreach (var reference in inventory.KubeconfigReferences.Where(r => r.IsCluster))
        {
            var units = TryResolve(inventory, reference.KubeconfigPath) is { } kubeconfig
                ? unitsByFile.GetValueOrDefault(kubeconfig) ?? [] : [];
            NamedFile(reference.Path, TrustAnchorKind.Trusts, units, reference.Where, reference.KubeconfigPath);
        }

        foreach (var entry in holders)
        {
            if (entry.Location.KubeconfigCluster is { } cluster)
            {
                anchors.Add(entry.Path, cluster, TrustAnchorKind.Trusts, entry.UsedBy, $"certificate-authority-data of cluster {cluster} in {entry.Path}");
            }
            else if (entry.Location.Field is null && entry.KeyMatches == true)
            {
                anchors.Add(entry.Path, null, TrustAnchorKind.Signs, [], $"its key beside it: {entry.KeyPath}");
            }
            else if (entry.Location.Field is null && !anchors.Holds(entry.Path))
            {
                // a copy nothing names (an administrator's, a backup): it still trusts the old CA until retired
                anchors.Add(entry.Path, null, TrustAnchorKind.Trusts, entry.UsedBy, null);
            }
        }

        var found = anchors.Build(holderFiles.Values);
        foreach (var signing in found.Where(a => a.Kind == TrustAnchorKind.Signs && a.KeyPath is null))
        {
            problems.Add(new RekeyProblem(signing.Path, $"{string.Join(", ", signing.NamedBy)} signs with '{authority.Subject}' but its key " +
                "was not found on the node; the issue phase cannot switch it to the new CA: put the CA key beside it or sign elsewhere"));
        }
        var leaves = inventory.Certificates
            .Where(e => !TrustBundle.IsSameAuthority(e.Certificate, authority))
            .Where(e => e.IssuerCertificate is { } issuer ? TrustBundle.IsSameAuthority(issuer, authority) : e.Certificate.IsIssuedBy(authority))
            .ToList();
        return new NodeTrustAnchors(found, leaves, problems);
    }

    /// <summary>
    /// Signs for kube-controller-manager's --cluster-signing-*-cert-file (its key flag is found through the key beside
    /// the certificate); Trusts for any other CA setting; null for what is not about a CA (including
    /// --service-account-signing-key-file, which signs tokens, not certificates).
    /// </summary>
    internal static TrustAnchorKind? KindOf(string setting)
    {
        var parts = setting.ToLowerInvariant().Split(['-', '_', '.'], StringSplitOptions.RemoveEmptyEntries);
        if (parts.Contains("cluster") && parts.Contains("signing"))
        {
            return parts.Contains("key") ? null : TrustAnchorKind.Signs;
        }
        return FileReferenceFinder.IsAboutCa(setting) ? TrustAnchorKind.Trusts : null;
    }

    private static Dictionary<string, List<string>> UnitsByFile(NodeInventory inventory)
    {
        var result = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var reference in inventory.Units.SelectMany(u => u.FileReferences))
        {
            if (TryResolve(inventory, reference.Path) is { } host)
            {
                if (!result.TryGetValue(host, out var units))
                {
                    result[host] = units = [];
                }
                units.Add(reference.Unit);
            }
        }
        return result;
    }

    private static string? TryResolve(NodeInventory inventory, string nodePath)
    {
        try
        {
            return inventory.Root.Resolve(nodePath);
        }
        catch (PkiException)
        {
            return null;
        }
    }

    /// <summary>Anchors gathered by place and kind, their units and namings merged.</summary>
    private sealed class Anchors
    {
        private readonly Dictionary<(string Path, string? Cluster, TrustAnchorKind Kind), (SortedSet<string> Units, List<string> NamedBy)> _byPlace = [];

        public bool Holds(string path) => _byPlace.Keys.Any(k => k.Path == path && k.Cluster is null);

        public void Add(string path, string? cluster, TrustAnchorKind kind, IEnumerable<string> units, string? namedBy)
        {
            if (!_byPlace.TryGetValue((path, cluster, kind), out var anchor))
            {
                _byPlace[(path, cluster, kind)] = anchor = (new SortedSet<string>(StringComparer.Ordinal), []);
            }
            anchor.Units.UnionWith(units);
            if (namedBy is not null && !anchor.NamedBy.Contains(namedBy))
            {
                anchor.NamedBy.Add(namedBy);
            }
        }

        public List<TrustAnchor> Build(IEnumerable<CertificateEntry> holderFiles)
        {
            var keys = holderFiles.Where(e => e.KeyMatches == true).ToDictionary(e => e.Path, e => e.KeyPath, StringComparer.Ordinal);
            return _byPlace
                .OrderBy(p => p.Key.Path, StringComparer.Ordinal)
                .ThenBy(p => p.Key.Cluster, StringComparer.Ordinal)
                .ThenBy(p => p.Key.Kind)
                .Select(p => new TrustAnchor(p.Key.Path, p.Key.Cluster, p.Key.Kind, [.. p.Value.Units], p.Value.NamedBy)
                {
                    KeyPath = p.Key.Kind == TrustAnchorKind.Signs ? keys.GetValueOrDefault(p.Key.Path) : null,
                })
                .ToList();
        }
    }
}
