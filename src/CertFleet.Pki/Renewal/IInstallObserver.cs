namespace CertFleet.Pki.Renewal;

/// <summary>
/// Told of each stage of an install as it happens, so a caller can journal it: the agent records where it is, so a
/// restart after a crash knows whether to discard temporaries, put the backup back, or finish.
/// </summary>
public interface IInstallObserver
{
    /// <summary>The backup folder exists (still empty) and no file has changed; a crash from here leaves only that folder.</summary>
    void BackupStarted(string backupNodeDirectory);

    /// <summary>Every file to change is in the backup (flushed); no file has changed yet.</summary>
    void BackedUp(string backupNodeDirectory, IReadOnlyList<string> changedFiles);

    /// <summary>Every new file is written and flushed as a temporary beside its file; the first rename comes next.</summary>
    void Prepared();

    /// <summary>The <paramref name="count"/>-th file (1-based) has been renamed into place.</summary>
    void Renamed(int count, string path);
}
