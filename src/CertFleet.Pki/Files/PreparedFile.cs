namespace CertFleet.Pki.Files;

/// <summary>A new file's content written and flushed beside the file it replaces, waiting to be renamed over it.</summary>
public sealed class PreparedFile
{
    internal PreparedFile(string hostPath, string temporaryPath, bool withFaultPoints)
    {
        HostPath = hostPath;
        TemporaryPath = temporaryPath;
        WithFaultPoints = withFaultPoints;
    }

    public string HostPath { get; }

    public string TemporaryPath { get; }

    internal bool WithFaultPoints { get; }

    /// <summary>Renames the temporary over the file (atomic) and flushes the folder.</summary>
    public void Rename() => AtomicFile.RenameIntoPlace(this);

    /// <summary>Deletes the temporary; the file it was for stays as it is.</summary>
    public void Discard() => AtomicFile.Discard(this);
}
