using CertFleet.Pki.Files;

namespace CertFleet.Pki.Inventory;

/// <summary>
/// Finds every certificate on a node by content, not by file name: in the usual folders, in every file a systemd
/// unit or its component config names, in every file or *-data field a kubeconfig names, in the administrators'
/// kubeconfigs, and in the folders all of those are in. Then pairs each certificate with its key, finds its issuer
/// among the CAs present (or among <see cref="TrustedAuthority"/>s given from outside) and the units that use it.
/// </summary>
public sealed class NodeScanner(TimeProvider time)
{
    public NodeInventory Scan(NodeRoot root) => Scan(root, []);

    /// <param name="outside">CA certificates from outside the root, an issuer for what no CA of the node issued</param>
    public NodeInventory Scan(NodeRoot root, IReadOnlyList<TrustedAuthority> outside)
    {
        ArgumentNullException.ThrowIfNull(root);
        var scan = new ScanState(root);
        var units = UnitCatalog.Load(root, scan.Errors);
        foreach (var folder in ScanPlaces.UsualFolders)
        {
            scan.EnqueueFolder(folder, recursive: true);
        }
        foreach (var reference in units.SelectMany(u => u.FileReferences))
        {
            scan.EnqueueReference(reference);
        }
        foreach (var unit in units)
        {
            foreach (var path in unit.EnvironmentFiles.Select(f => f.Path).Concat(unit.ComponentConfigs.Select(c => c.Path)))
            {
                scan.NoteNamedFolder(path);
            }
        }
        foreach (var path in ScanPlaces.AdministratorKubeconfigs(root))
        {
            scan.Enqueue(path, ScanState.Reason.AdministratorKubeconfig);
        }
        scan.ReadAll();

        var now = time.GetUtcNow();
        var entries = CertificateLinker.Link(scan, units, now, outside);
        return new NodeInventory(root, now, entries, scan.Errors, units,
            scan.Keys.Select(k => k.Key).ToList(), scan.KubeconfigReferences.SelectMany(r => r.Public).ToList());
    }
}
