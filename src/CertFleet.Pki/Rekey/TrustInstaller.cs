using System.Text;
using CertFleet.Pki.Certificates;
using CertFleet.Pki.Inventory;
using CertFleet.Pki.Renewal;

namespace CertFleet.Pki.Rekey;

/// <summary>
/// Writes a re-key's trust bundles onto a node: every file and kubeconfig certificate-authority-data that trusts the
/// CA gets "old + new" (<see cref="Trust"/>) or loses the old CA (<see cref="Retire"/>), with the guarantees of a
/// renewal's install: every file backed up first, every temporary written before any rename, renames through the
/// folder handle, the files already renamed put back if one fails. A crash leaves each file whole, old or new, and a
/// backup that restores the old ones (<see cref="Files.BackupSet.RestoreAll"/>). Places that sign are refused: they
/// keep one certificate matching their key, and a file that both signs and trusts must be split first
/// (<see cref="SigningSplit"/>).
/// </summary>
public sealed class TrustInstaller(TimeProvider time)
{
    /// <summary>The fault point after the backup is complete and before any temporary is written.</summary>
    public const string AfterBackup = "trust:after-backup";

    /// <summary>The fault point after each file is renamed into place.</summary>
    public const string AfterFile = "trust:after-file";

    private const string Stage = "trust";

    /// <summary>Adds <paramref name="newCa"/> after the old CA in every place of <paramref name="found"/> that trusts it; idempotent.</summary>
    public InstallResult Trust(NodeInventory inventory, NodeTrustAnchors found, CertificateInfo oldCa, CertificateInfo newCa,
        IInstallObserver? observer = null)
    {
        ArgumentNullException.ThrowIfNull(oldCa);
        ArgumentNullException.ThrowIfNull(newCa);
        return Install(inventory, found, observer, (text, anchor, name) => TrustText(text, anchor, name, oldCa, newCa));
    }

    /// <summary>Removes every copy of <paramref name="oldCa"/> from every place of <paramref name="found"/> that trusts it; idempotent.</summary>
    public InstallResult Retire(NodeInventory inventory, NodeTrustAnchors found, CertificateInfo oldCa, IInstallObserver? observer = null)
    {
        ArgumentNullException.ThrowIfNull(oldCa);
        return Install(inventory, found, observer, (text, anchor, name) => RetireText(text, anchor, name, oldCa));
    }

    private InstallResult Install(NodeInventory inventory, NodeTrustAnchors found, IInstallObserver? observer,
        Func<string, TrustAnchor, string, string> change)
    {
        ArgumentNullException.ThrowIfNull(inventory);
        ArgumentNullException.ThrowIfNull(found);
        EnsureNoSigningFile(found);
        var (changes, units) = Changes(inventory, found.Trusting.Select(a => (a, change)));
        if (changes.Count == 0)
        {
            return InstallResult.Nothing;
        }
        var (changed, backupDirectory) = FileSetInstall.Run(inventory.Root, changes, time.GetUtcNow(), Stage, observer);
        return new InstallResult(changed, backupDirectory, RestartOrder.Sort(units));
    }

    /// <summary>
    /// The file changes that apply every anchor's text change, file by file (several anchors, of several CAs, may share
    /// a file): a file already as wanted is left out, so a resumed phase rewrites nothing.
    /// </summary>
    internal static (List<IFileChange> Changes, List<string> Units) Changes(NodeInventory inventory,
        IEnumerable<(TrustAnchor Anchor, Func<string, TrustAnchor, string, string> Change)> anchors)
    {
        var changes = new List<IFileChange>();
        var units = new List<string>();
        foreach (var file in anchors.GroupBy(a => a.Anchor.Path, StringComparer.Ordinal))
        {
            var scanned = Scanned(inventory, file.Key);
            var text = file.Aggregate(scanned.Text, (current, anchor) => anchor.Change(current, anchor.Anchor, file.Key));
            if (text == scanned.Text)
            {
                continue; // already as the phase wants it: a resumed phase rewrites nothing
            }
            FileSetInstall.EnsureUnchangedSinceScan(scanned.Path, scanned.HostPath, scanned.Text);
            changes.Add(new FileReplacement(scanned.Path, scanned.HostPath, Encoding.UTF8.GetBytes(text)));
            units.AddRange(file.SelectMany(a => a.Anchor.Units));
        }
        return (changes, units);
    }

    internal static string TrustText(string text, TrustAnchor anchor, string name, CertificateInfo oldCa, CertificateInfo newCa) =>
        anchor.KubeconfigCluster is { } cluster
            ? TrustBundle.TrustKubeconfig(text, cluster, oldCa, newCa, name)
            : TrustBundle.Trust(text, oldCa, newCa, name);

    internal static string RetireText(string text, TrustAnchor anchor, string name, CertificateInfo oldCa) =>
        anchor.KubeconfigCluster is { } cluster
            ? TrustBundle.RetireKubeconfig(text, cluster, oldCa, name)
            : TrustBundle.Retire(text, oldCa, name);

    // kube-controller-manager refuses a bundle in --cluster-signing-cert-file (kubernetes/kubeadm#1350); a CA file that
    // is only signing by having its key beside it is fine: the bundle keeps the old CA first, matching that key
    internal static void EnsureNoSigningFile(NodeTrustAnchors found)
    {
        var named = found.Signing.Where(a => a.Units.Count > 0 || a.NamedBy.Any(n => !n.StartsWith("its key beside it", StringComparison.Ordinal)))
            .Select(a => a.Path)
            .Intersect(found.Trusting.Where(a => a.KubeconfigCluster is null).Select(a => a.Path), StringComparer.Ordinal)
            .ToList();
        if (named.Count > 0)
        {
            throw new PkiException($"{string.Join(", ", named)}: both trusted and named as a signing certificate " +
                "(--cluster-signing-cert-file), which must keep exactly one certificate; split the signing copy off first " +
                "(SigningSplit), nothing was written");
        }
    }

    private static ScannedFile Scanned(NodeInventory inventory, string nodePath)
    {
        var host = inventory.Root.Resolve(nodePath);
        return inventory.Certificates.Select(e => e.File).FirstOrDefault(f => f.HostPath == host)
            ?? throw new PkiException($"{nodePath}: was not read by the scan, so its bundle cannot be computed; scan the node again");
    }
}
