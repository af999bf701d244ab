using CertFleet.Pki.Systemd;

namespace CertFleet.Pki.Inventory;

/// <summary>
/// Which units use a certificate: those that name its file (or a symlink to it), a kubeconfig that holds or
/// names it, or the folder it is in (like the kubelet's --cert-dir). This decides what restarts after a change.
/// </summary>
internal sealed class UnitUsage
{
    private readonly Dictionary<string, SortedSet<string>> _unitsByHostPath = new(StringComparer.Ordinal);
    private readonly IReadOnlyList<KubeconfigFileReference> _kubeconfigReferences;
    private readonly IReadOnlyList<(string HostPath, string Unit)> _unitFolders;

    public UnitUsage(NodeScanner.ScanState scan, IReadOnlyList<SystemdUnit> units)
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

    public IReadOnlyList<string> UnitsUsing(FoundCertificate found)
    {
        var hostPath = found.File.HostPath;
        var units = new SortedSet<string>(StringComparer.Ordinal);
        units.UnionWith(_unitsByHostPath.GetValueOrDefault(hostPath) ?? []);
        if (found.Location.Field is null)
        {
            foreach (var reference in _kubeconfigReferences.Where(r => r.CertificateHostPath == hostPath))
            {
                units.UnionWith(_unitsByHostPath.GetValueOrDefault(reference.KubeconfigHostPath) ?? []);
            }
            var folder = Path.GetDirectoryName(hostPath);
            units.UnionWith(_unitFolders.Where(f => f.HostPath == folder).Select(f => f.Unit));
        }
        return [.. units];
    }

    private void Add(string hostPath, string unit)
    {
        if (!_unitsByHostPath.TryGetValue(hostPath, out var set))
        {
            _unitsByHostPath[hostPath] = set = new SortedSet<string>(StringComparer.Ordinal);
        }
        set.Add(unit);
    }
}
