using System.Text;
using System.Text.Json;
using CertFleet.Pki;
using CertFleet.Pki.Files;
using CertFleet.Pki.Renewal;

namespace CertFleet.Agent.Steps;

/// <summary>
/// The write-ahead record of one install: install-in-progress.json in the state folder, rewritten atomically (and
/// flushed) before each stage, removed once the step is in the <see cref="StepJournal"/>. Its presence at start means
/// the agent died mid-install; <see cref="InstallRecovery"/> reads the phase to decide what to do. Each stage ends at
/// a named fault point (CERTFLEET_FAULT_POINT) so tests can kill the agent exactly there.
/// </summary>
internal sealed class InstallTransaction(string stateDirectory, StepJournal journal) : IInstallObserver
{
    public const string AfterJournal = "install:after-journal";
    public const string AfterBackup = "install:after-backup";
    public const string AfterTemporaries = "install:after-temporaries";
    public const string AfterRenamePrefix = "install:after-rename-";
    public const string BeforeCommit = "install:before-commit";
    public const string AfterCommit = "install:after-commit";

    public string FilePath => Path.Combine(stateDirectory, "install-in-progress.json");

    public PendingInstall? Read()
    {
        if (!File.Exists(FilePath))
        {
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(FilePath), StepsJsonContext.Default.PendingInstall);
        }
        catch (JsonException e)
        {
            throw new PkiException($"{FilePath}: the record of an unfinished install is damaged ({e.Message}); check the node with `certfleet verify --local`, restore from the newest folder in {BackupSet.BackupsDirectoryOnNode} if needed, then remove the file", e);
        }
    }

    public void Begin(string stepId, string rolloutId, DateTimeOffset now)
    {
        Write(new PendingInstall { StepId = stepId, RolloutId = rolloutId, Phase = InstallPhase.Started, StartedAt = now });
        FaultPoints.Reached(AfterJournal);
    }

    /// <summary>Recorded before the first copy, so a crash while backing up names the folder to clear away.</summary>
    public void BackupStarted(string backupNodeDirectory) =>
        Write(Current() with { BackupDirectory = backupNodeDirectory });

    public void BackedUp(string backupNodeDirectory, IReadOnlyList<string> changedFiles)
    {
        Write(Current() with { Phase = InstallPhase.BackedUp, BackupDirectory = backupNodeDirectory, ChangedFiles = changedFiles });
        FaultPoints.Reached(AfterBackup);
    }

    public void Prepared()
    {
        Write(Current() with { Phase = InstallPhase.Renaming });
        FaultPoints.Reached(AfterTemporaries);
    }

    public void Renamed(int count, string path) => FaultPoints.Reached(AfterRenamePrefix + count);

    /// <summary>Every new file is in place and verified: from here a restart rolls forward.</summary>
    public void Verified(JournalEntry result)
    {
        Write(Current() with { Phase = InstallPhase.Verified, Result = result });
        FaultPoints.Reached(BeforeCommit);
    }

    /// <summary>The step's outcome goes into the journal first, then the in-progress record goes: a crash between the two is harmless.</summary>
    public void Commit(JournalEntry entry)
    {
        journal.Record(entry);
        FaultPoints.Reached(AfterCommit);
        AtomicFile.Delete(FilePath);
    }

    private PendingInstall Current() =>
        Read() ?? throw new InvalidOperationException($"{FilePath}: no install in progress");

    private void Write(PendingInstall pending)
    {
        Directory.CreateDirectory(stateDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        AtomicFile.Replace(FilePath, Encoding.UTF8.GetBytes(JsonSerializer.Serialize(pending, StepsJsonContext.Default.PendingInstall)));
    }
}
