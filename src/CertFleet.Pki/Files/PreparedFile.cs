namespace CertFleet.Pki.Files;

/// <summary>
/// A new file's content (or a new symlink) written and flushed beside the file it replaces, or beside where a new file
/// goes, waiting to be renamed into place.
/// </summary>
public sealed class PreparedFile
{
    internal PreparedFile(string hostPath, string temporaryPath, bool withFaultPoints, bool createsNew = false)
    {
        HostPath = hostPath;
        TemporaryPath = temporaryPath;
        WithFaultPoints = withFaultPoints;
        CreatesNew = createsNew;
    }

    public string HostPath { get; }

    public string TemporaryPath { get; }

    internal bool WithFaultPoints { get; }

    /// <summary>The name must still be free at <see cref="Rename"/>: nothing there is ever replaced.</summary>
    internal bool CreatesNew { get; }

    /// <summary>Renames the temporary over the file (atomic) and flushes the folder.</summary>
    public void Rename() => AtomicFile.RenameIntoPlace(this);

    /// <summary>Deletes the temporary (nothing when it was renamed already); the file it was for stays as it is.</summary>
    public void Discard() => AtomicFile.Discard(this);
}
