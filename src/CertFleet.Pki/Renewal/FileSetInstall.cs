using CertFleet.Pki.Files;

namespace CertFleet.Pki.Renewal;

/// <summary>One change an install makes: saved into the backup first, then written as temporaries beside its files.</summary>
internal interface IFileChange
{
    /// <summary>Node paths of what the change writes (a moved link counts with its new file).</summary>
    IEnumerable<string> ChangedFiles { get; }

    /// <summary>The folder on the host its temporaries go to, swept of stale ones before preparing.</summary>
    string FolderHost { get; }

    void Backup(BackupSet backup);

    void Prepare(List<PreparedFile> prepared);
}

/// <summary>A regular file's content replaced in place (same owner and mode).</summary>
internal sealed record FileReplacement(string NodePath, string HostPath, byte[] NewContent) : IFileChange
{
    public IEnumerable<string> ChangedFiles => [NodePath];

    public string FolderHost => Path.GetDirectoryName(HostPath)!;

    public void Backup(BackupSet backup) => backup.Save(NodePath);

    public void Prepare(List<PreparedFile> prepared) => prepared.Add(AtomicFile.Prepare(HostPath, NewContent));
}

/// <summary>
/// The half of an install that does not care what the files hold: every file backed up first, every temporary
/// written and flushed before any rename, then renamed one by one; if a rename fails, the files already renamed are
/// put back from the backup, so nothing half-done remains. A crash at any moment leaves each file whole (old or new)
/// and a backup that restores the old ones. <paramref name="stage"/> names the fault points "stage:after-backup" and
/// "stage:after-file", so each installer's crash tests (and the agent's journal recovery) can aim at them.
/// </summary>
internal static class FileSetInstall
{
    public static (IReadOnlyList<string> Changed, string BackupNodeDirectory) Run(NodeRoot root, IReadOnlyList<IFileChange> changes,
        DateTimeOffset now, string stage, IInstallObserver? observer)
    {
        var backup = BackupSet.Create(root, now);
        // a crash here leaves an empty folder nobody recorded: the agent's recovery clears it by its time stamp
        FaultPoints.Reached($"{stage}:backup-folder-made");
        observer?.BackupStarted(backup.NodeDirectory);
        try
        {
            foreach (var change in changes)
            {
                change.Backup(backup);
            }
        }
        catch (PkiException)
        {
            // nothing on the node changed: an incomplete copy of unchanged files would only be a folder nobody can use
            backup.Delete();
            throw;
        }
        var changed = changes.SelectMany(s => s.ChangedFiles).Order(StringComparer.Ordinal).ToList();
        FaultPoints.Reached($"{stage}:after-backup");
        observer?.BackedUp(backup.NodeDirectory, changed);

        foreach (var folder in changes.Select(s => s.FolderHost).Distinct(StringComparer.Ordinal))
        {
            AtomicFile.RemoveStaleTemporaries(folder);
        }
        var prepared = Prepare(changes, backup);
        observer?.Prepared();

        var written = 0;
        try
        {
            foreach (var file in prepared)
            {
                file.Rename();
                written++;
                FaultPoints.Reached($"{stage}:after-file");
                observer?.Renamed(written, root.ToNodePath(file.HostPath));
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
        return (changed, backup.NodeDirectory);
    }

    // every temporary before any rename: a full disk, a read-only folder or a missing permission fails here, while
    // every file on the node is still the old one
    private static List<PreparedFile> Prepare(IReadOnlyList<IFileChange> changes, BackupSet backup)
    {
        var prepared = new List<PreparedFile>(changes.Count);
        try
        {
            foreach (var change in changes)
            {
                change.Prepare(prepared);
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

    /// <summary>Refuses when a file differs from what the scan read: the new content was computed from that text.</summary>
    public static void EnsureUnchangedSinceScan(string nodePath, string hostPath, string scannedText)
    {
        var current = File.Exists(hostPath) ? File.ReadAllText(hostPath) : null;
        if (current != scannedText)
        {
            throw new PkiException($"{nodePath} changed while certfleet was reading the node; nothing was written, run the command again");
        }
    }
}
