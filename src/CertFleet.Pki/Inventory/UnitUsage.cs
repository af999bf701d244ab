using CertFleet.Pki.Systemd;

namespace CertFleet.Pki.Inventory;

/// <summary>
/// Which units use a certificate: those that name its file (or a symlink to it) by flag, variable or component
/// config, a kubeconfig they name that holds or names it, or, for a folder setting like the kubelet's --cert-dir
/// (given or default), the files named after the service in that folder. This decides what restarts after a change.
/// </summary>
internal sealed class UnitUsage
{
    private readonly Dictionary<string, SortedSet<string>> _unitsByHostPath = new(StringComparer.Ordinal);
    private readonly IReadOnlyList<KubeconfigFileReference> _kubeconfigReferences;
    private readonly IReadOnlyList<(string HostPath, string Unit)> _unitFolders;

    public UnitUsage(ScanState scan, IReadOnlyList<SystemdUnit> units)
    {
        foreach (var reference in units.SelectMany(u => u.FileReferences))
        {
            try
            {
                Add(scan.Root.Resolve(reference.Path), reference.Unit);
            }
            catch (PkiException)
            {
                // already reported by the scan
            }
        }
        _kubeconfigReferences = scan.KubeconfigReferences;
        _unitFolders = scan.UnitFolders;
    }

    public IReadOnlyList<string> UnitsUsing(FoundCertificate found, KubeletFiles kubelet)
    {
        var hostPath = found.File.HostPath;
        var units = new SortedSet<string>(StringComparer.Ordinal);
        units.UnionWith(_unitsByHostPath.GetValueOrDefault(hostPath) ?? []);
        if (found.Location.Field is null)
        {
            foreach (var reference in _kubeconfigReferences.Where(r => r.CertificateHostPath == hostPath || r.KeyHostPath == hostPath))
            {
                units.UnionWith(_unitsByHostPath.GetValueOrDefault(reference.KubeconfigHostPath) ?? []);
            }
            // --cert-dir holds the kubelet's own files (kubelet.crt, kubelet-client-*.pem), and on many layouts the
            // cluster's too (/opt/kubernetes/ssl): only the files named after the service are its own
            var folder = Path.GetDirectoryName(hostPath);
            var name = Path.GetFileName(hostPath);
            units.UnionWith(_unitFolders
                .Where(f => f.HostPath == folder && name.StartsWith(ServiceName(f.Unit), StringComparison.Ordinal))
                .Select(f => f.Unit));
            units.UnionWith(kubelet.UnitsOwning(hostPath));
        }
        return [.. units];
    }

    private static string ServiceName(string unit) => unit.EndsWith(".service", StringComparison.Ordinal) ? unit[..^".service".Length] : unit;

    private void Add(string hostPath, string unit)
    {
        if (!_unitsByHostPath.TryGetValue(hostPath, out var set))
        {
            _unitsByHostPath[hostPath] = set = new SortedSet<string>(StringComparer.Ordinal);
        }
        set.Add(unit);
    }
}
