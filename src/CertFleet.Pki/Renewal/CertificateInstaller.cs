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
/// written as a new dated file and the link moved (<see cref="RotationLinkMove"/>). Used by `renew --local` and by
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
            EnsureUnchangedSinceScan(edit.File);
        }
        var now = time.GetUtcNow();
        var steps = edits
            .Select(e => new Step(e, e.RotationLink is null ? null : RotationLinkMove.Plan(inventory.Root, e, now)))
            .ToList();

        var backup = BackupSet.Create(inventory.Root, now);
        observer?.BackupStarted(backup.NodeDirectory);
        try
        {
            foreach (var step in steps)
            {
                if (step.Move is { } move)
                {
                    move.Backup(backup, step.Edit.NewContent);
                }
                else
                {
                    backup.Save(step.Edit.File.Path);
                }
            }
        }
        catch (PkiException)
        {
            // nothing on the node changed: an incomplete copy of unchanged files would only be a folder nobody can use
            backup.Delete();
            throw;
        }
        var changed = steps.SelectMany(s => s.ChangedFiles).Order(StringComparer.Ordinal).ToList();
        FaultPoints.Reached("renew:after-backup");
        observer?.BackedUp(backup.NodeDirectory, changed);

        foreach (var folder in steps.Select(s => s.Folder).Distinct(StringComparer.Ordinal))
        {
            AtomicFile.RemoveStaleTemporaries(folder);
        }
        var prepared = Prepare(steps, backup);
        observer?.Prepared();

        var written = 0;
        try
        {
            foreach (var file in prepared)
            {
                file.Rename();
                written++;
                FaultPoints.Reached("renew:after-file");
                observer?.Renamed(written, inventory.Root.ToNodePath(file.HostPath));
            }
        }
        catch (PkiException e) when (written > 0)
        {
            DiscardAll(prepared);
            backup.RestoreAll();
            throw new PkiException(
                $"{e.Message}. The {written} file(s) already written were put back from {backup.NodeDirectory}: nothing changed", e);
        }
        catch (PkiException)
        {
            DiscardAll(prepared);
            throw;
        }
        var units = RestartOrder.Sort(edits.SelectMany(e => e.Replaced).SelectMany(r => r.UsedBy));
        return new InstallResult(changed, backup.NodeDirectory, units);
    }

    /// <summary>One file's edit, and how it is installed when it sits behind the kubelet's link.</summary>
    private sealed record Step(FileEdit Edit, RotationLinkMove? Move)
    {
        public IEnumerable<string> ChangedFiles => Move is null ? [Edit.File.Path] : [Move.NewFileNodePath, Move.LinkNodePath];

        public string Folder => Move?.FolderHost ?? Path.GetDirectoryName(Edit.File.HostPath)!;
    }

    // every temporary before any rename: a full disk, a read-only folder or a missing permission fails here, while
    // every file on the node is still the old one
    private static List<PreparedFile> Prepare(IReadOnlyList<Step> steps, BackupSet backup)
    {
        var prepared = new List<PreparedFile>(steps.Count);
        try
        {
            foreach (var step in steps)
            {
                if (step.Move is { } move)
                {
                    move.Prepare(prepared, step.Edit.NewContent);
                }
                else
                {
                    prepared.Add(AtomicFile.Prepare(step.Edit.File.HostPath, step.Edit.NewContent));
                }
            }
        }
        catch (PkiException e)
        {
            DiscardAll(prepared);
            throw new PkiException($"{e.Message} Nothing was installed (backup of the old files in {backup.NodeDirectory})", e);
        }
        return prepared;
    }

    private static void DiscardAll(IEnumerable<PreparedFile> prepared)
    {
        foreach (var file in prepared)
        {
            file.Discard(); // nothing for one already renamed: its temporary name is gone
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

    private static void EnsureUnchangedSinceScan(ScannedFile file)
    {
        var current = File.Exists(file.HostPath) ? File.ReadAllText(file.HostPath) : null;
        if (current != file.Text)
        {
            throw new PkiException($"{file.Path} changed while certfleet was reading the node; nothing was written, run the command again");
        }
    }
}
