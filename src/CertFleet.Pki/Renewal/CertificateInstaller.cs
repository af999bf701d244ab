using CertFleet.Pki.Certificates;
using CertFleet.Pki.Files;
using CertFleet.Pki.Inventory;

namespace CertFleet.Pki.Renewal;

/// <summary>What an install changed, where the old files are, and which units use what changed.</summary>
public sealed record InstallResult(IReadOnlyList<string> ChangedFiles, string? BackupDirectory, IReadOnlyList<string> UnitsToRestart)
{
    public static readonly InstallResult Nothing = new([], null, []);
}

/// <summary>
/// Puts new certificates in place of old ones everywhere they appear on a node (files, bundles, kubeconfigs):
/// every file backed up first, then replaced one by one atomically. Refuses a replacement whose public key
/// differs from the certificate it replaces, because keys never change: that is what keeps every
/// certificate/key pair matched through a crash at any moment. If a write fails, the files already written are
/// put back, so nothing half-done remains. A file behind the kubelet's -current.pem link is not edited in place but
/// written as a new dated file and the link moved (<see cref="RotationLinkMove"/>). The backup, prepare and rename
/// half is <see cref="FileSetInstall"/>, shared with the re-key's trust installer. Used by `renew --local` and by
/// the agent.
/// </summary>
public sealed class CertificateInstaller(TimeProvider time)
{
    private static readonly IReadOnlySet<string> NoRemovals = new HashSet<string>();

    /// <param name="replacements">old certificate's SHA-256 fingerprint to the certificate that replaces it</param>
    /// <param name="observer">told of each stage (backed up, temporaries written, each rename) as it happens</param>
    /// <param name="removals">
    /// SHA-256 fingerprints of certificates to delete from every file that gets a replacement (client-go's throwaway CA
    /// in kubelet.crt, once its leaf is renewed self-signed); a file left without a certificate is refused
    /// </param>
    public InstallResult Install(NodeInventory inventory, IReadOnlyDictionary<string, CertificateInfo> replacements,
        IInstallObserver? observer = null, IReadOnlySet<string>? removals = null)
    {
        ArgumentNullException.ThrowIfNull(inventory);
        EnsureSameKeys(inventory, replacements);
        var edits = FileEdits.Compute(inventory, replacements, removals ?? NoRemovals);
        if (edits.Count == 0)
        {
            return InstallResult.Nothing;
        }
        foreach (var edit in edits)
        {
            FileSetInstall.EnsureUnchangedSinceScan(edit.File.Path, edit.File.HostPath, edit.File.Text);
        }
        var now = time.GetUtcNow();
        var steps = edits
            .Select(e => new Step(e, e.RotationLink is null ? null : RotationLinkMove.Plan(inventory.Root, e, now)))
            .ToList();

        var (changed, backupDirectory) = FileSetInstall.Run(inventory.Root, steps, now, "renew", observer);
        var units = RestartOrder.Sort(edits.SelectMany(e => e.Replaced).SelectMany(r => r.UsedBy));
        return new InstallResult(changed, backupDirectory, units);
    }

    /// <summary>One file's edit, and how it is installed when it sits behind the kubelet's link.</summary>
    private sealed record Step(FileEdit Edit, RotationLinkMove? Move) : IFileChange
    {
        public IEnumerable<string> ChangedFiles => Move is null ? [Edit.File.Path] : [Move.NewFileNodePath, Move.LinkNodePath];

        public string FolderHost => Move?.FolderHost ?? Path.GetDirectoryName(Edit.File.HostPath)!;

        public void Backup(BackupSet backup)
        {
            if (Move is { } move)
            {
                move.Backup(backup, Edit.NewContent);
            }
            else
            {
                backup.Save(Edit.File.Path);
            }
        }

        public void Prepare(List<PreparedFile> prepared)
        {
            if (Move is { } move)
            {
                move.Prepare(prepared, Edit.NewContent);
            }
            else
            {
                prepared.Add(AtomicFile.Prepare(Edit.File.HostPath, Edit.NewContent));
            }
        }
    }

    private static void EnsureSameKeys(NodeInventory inventory, IReadOnlyDictionary<string, CertificateInfo> replacements)
    {
        foreach (var entry in inventory.Certificates)
        {
            if (replacements.TryGetValue(entry.Certificate.Sha256Fingerprint, out var next)
                && !next.SubjectPublicKeyInfoDer.AsSpan().SequenceEqual(entry.Certificate.SubjectPublicKeyInfoDer))
            {
                throw new PkiException(
                    $"{entry.DisplayName}: the replacement for {entry.Certificate.Subject} has a different public key; "
                    + "certificates are only ever renewed with their existing key, so nothing was written");
            }
        }
    }
}
