namespace CertFleet.Pki.Files;

/// <summary>
/// A new file's content (or a new symlink) written and flushed beside the file it replaces, or beside where a new file
/// goes, waiting to be renamed into place through the folder handle it was written through.
/// </summary>
public sealed class PreparedFile
{
    internal PreparedFile(string hostPath, FolderHandle folder, string name, string temporaryName, bool withFaultPoints, bool createsNew = false)
    {
        HostPath = hostPath;
        Folder = folder;
        Name = name;
        TemporaryName = temporaryName;
        WithFaultPoints = withFaultPoints;
        CreatesNew = createsNew;
    }

    public string HostPath { get; }

    public string TemporaryPath => Path.Combine(Folder.HostPath, TemporaryName);

    internal FolderHandle Folder { get; }

    internal string Name { get; }

    internal string TemporaryName { get; }

    internal bool WithFaultPoints { get; }

    /// <summary>The name must still be free at <see cref="Rename"/>: nothing there is ever replaced.</summary>
    internal bool CreatesNew { get; }

    /// <summary>Renames the temporary over the file (atomic) and flushes the folder.</summary>
    public void Rename()
    {
        using (Folder)
        {
            AtomicFile.RenameIntoPlace(this);
        }
    }

    /// <summary>Deletes the temporary (nothing when it was renamed already); the file it was for stays as it is.</summary>
    public void Discard()
    {
        using (Folder)
        {
            AtomicFile.Discard(this);
        }
    }
}
