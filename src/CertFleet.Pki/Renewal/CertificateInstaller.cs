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
/// put back, so nothing half-done remains. Used by `renew --local` and by the agent.
/// </summary>
public sealed class CertificateInstaller(TimeProvider time)
{
    /// <param name="replacements">old certificate's SHA-256 fingerprint to the certificate that replaces it</param>
    /// <param name="observer">told of each stage (backed up, temporaries written, each rename) as it happens</param>
    public InstallResult Install(NodeInventory inventory, IReadOnlyDictionary<string, CertificateInfo> replacements, IInstallObserver? observer = null)
    {
        EnsureSameKeys(inventory, replacements);
        var edits = FileEdits.Compute(inventory, replacements);
        if (edits.Count == 0)
        {
            return InstallResult.Nothing;
        }
        foreach (var edit in edits)
        {
            EnsureUnchangedSinceScan(edit.File);
        }

        var backup = BackupSet.Create(inventory.Root, time.GetUtcNow());
        observer?.BackupStarted(backup.NodeDirectory);
        try
        {
            foreach (var edit in edits)
            {
                backup.Save(edit.File.Path);
            }
        }
        catch (PkiException)
        {
            // nothing on the node changed: an incomplete copy of unchanged files would only be a folder nobody can use
            backup.Delete();
            throw;
        }
        var changed = edits.Select(e => e.File.Path).Order(StringComparer.Ordinal).ToList();
        FaultPoints.Reached("renew:after-backup");
        observer?.BackedUp(backup.NodeDirectory, changed);

        foreach (var folder in edits.Select(e => Path.GetDirectoryName(e.File.HostPath)!).Distinct(StringComparer.Ordinal))
        {
            AtomicFile.RemoveStaleTemporaries(folder);
        }
        var prepared = Prepare(edits, backup);
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

    // every temporary before any rename: a full disk, a read-only folder or a missing permission fails here, while
    // every file on the node is still the old one
    private static List<PreparedFile> Prepare(IReadOnlyList<FileEdit> edits, BackupSet backup)
    {
        var prepared = new List<PreparedFile>(edits.Count);
        try
        {
            foreach (var edit in edits)
            {
                prepared.Add(AtomicFile.Prepare(edit.File.HostPath, edit.NewContent));
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
            if (File.Exists(file.TemporaryPath))
            {
                file.Discard();
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

    private static void EnsureUnchangedSinceScan(ScannedFile file)
    {
        var current = File.Exists(file.HostPath) ? File.ReadAllText(file.HostPath) : null;
        if (current != file.Text)
        {
            throw new PkiException($"{file.Path} changed while certfleet was reading the node; nothing was written, run the command again");
        }
    }
}
