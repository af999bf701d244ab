using CertFleet.Agent.Handlers;
using CertFleet.Agent.Options;
using CertFleet.Pki;
using CertFleet.Pki.Files;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CertFleet.Agent.Steps;

/// <summary>
/// On start (before the agent connects) and before any new install: finishes or undoes an install the agent died in,
/// and journals what it did under the step's id, so the coordinator re-sending the step learns the outcome (a
/// committed step is answered from the journal; an undone one is simply done again). Keys never change, so every
/// certificate/key pair matches whichever way it goes.
/// </summary>
internal sealed partial class InstallRecovery(
    AgentOptions options, InstallTransaction transaction, NodeAccess node, TimeProvider time, ILogger<InstallRecovery> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            // a crash while the journal or the in-progress record was written leaves a temporary beside it
            AtomicFile.RemoveStaleTemporaries(options.StateDirectory);
            Recover();
        }
        catch (PkiException e)
        {
            // the agent still connects: the coordinator sees the failure on the next install, which refuses to run
            Log.RecoveryFailed(logger, e.Message);
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Resolves an unfinished install, if any; throws <see cref="PkiException"/> when it cannot (the record stays for the next try).</summary>
    public void Recover()
    {
        if (transaction.Read() is not { } pending)
        {
            return;
        }
        var entry = new JournalEntry
        {
            StepId = pending.StepId,
            RolloutId = pending.RolloutId,
            Kind = "install",
            Ok = false,
            FinishedAt = time.GetUtcNow(),
            BackupDirectory = pending.BackupDirectory,
        };
        entry = pending.Phase switch
        {
            // the backup was being taken: no file on the node was touched, so its folder (if begun) only holds copies
            // of the files as they are: removed, so that every backup folder left on a node belongs to an install
            InstallPhase.Started => Cleared(pending, entry, "before any file changed"),
            // every file is still the old one; only temporaries beside them can exist, and those are discarded
            InstallPhase.BackedUp => Discarded(pending, entry),
            // some files may be new and some old: roll BACK, not forward. The backup is complete and flushed while the
            // new content was never verified and the temporaries of files not yet renamed may be incomplete or gone;
            // restoring is idempotent, so a crash during it is resolved by the next start the same way.
            InstallPhase.Renaming => RolledBack(pending, entry),
            // every file is new and the node passed local verification; only the commit record was missing: roll forward
            InstallPhase.Verified => (pending.Result ?? entry) with { Message = (pending.Result?.Message ?? "installed") + " (committed when the agent restarted)" },
            _ => throw new PkiException($"{transaction.FilePath}: unknown install phase {pending.Phase}; check the node with `certfleet verify --local` and remove the file"),
        };
        transaction.Commit(entry);
        Log.Recovered(logger, pending.StepId, pending.Phase.ToString(), entry.Message);
    }

    private JournalEntry Discarded(PendingInstall pending, JournalEntry entry)
    {
        RemoveTemporaries(pending);
        return Cleared(pending, entry, "after the backup and before any file changed; the temporaries were discarded");
    }

    /// <summary>No file on the node changed: the backup only copies them as they are, so it goes (the entry names no backup).</summary>
    private JournalEntry Cleared(PendingInstall pending, JournalEntry entry, string when)
    {
        var removed = "";
        if (pending.BackupDirectory is { } backup)
        {
            BackupSet.Remove(node.Root, backup);
            removed = $"; its backup {backup} held only copies of the unchanged files and was removed";
        }
        else
        {
            // stopped between making the backup folder and recording it: an empty folder stamped from this install's
            // start on can only be its own (one install at a time), and holds nothing to restore
            foreach (var empty in EmptyBackupFoldersSince(pending.StartedAt))
            {
                BackupSet.Remove(node.Root, empty);
                removed += $"; its empty backup folder {empty} was removed";
            }
        }
        return entry with
        {
            BackupDirectory = null,
            Message = $"the agent stopped {when}{removed}; nothing was installed, send the step again",
        };
    }

    private IEnumerable<string> EmptyBackupFoldersSince(DateTimeOffset startedAt)
    {
        var backups = node.Root.Resolve(BackupSet.BackupsDirectoryOnNode);
        if (!Directory.Exists(backups))
        {
            return [];
        }
        // folder names are UTC stamps, yyyyMMddTHHmmssZ with an optional -N: ordinal order is time order
        var since = startedAt.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        return Directory.GetDirectories(backups)
            .Where(d => string.CompareOrdinal(Path.GetFileName(d), since) >= 0 && !Directory.EnumerateFileSystemEntries(d).Any())
            .Select(d => node.Root.ToNodePath(d))
            .ToList();
    }

    private JournalEntry RolledBack(PendingInstall pending, JournalEntry entry)
    {
        var backup = pending.BackupDirectory
            ?? throw new PkiException($"{transaction.FilePath}: an install stopped while renaming files but names no backup; check the node with `certfleet verify --local`");
        BackupSet.Open(node.Root, backup).RestoreAll();
        RemoveTemporaries(pending);
        return entry with
        {
            Message = $"rolled back: the agent stopped while renaming the new files into place; the {pending.ChangedFiles.Count} file(s) were put back from {backup}, send the step again to install",
        };
    }

    private void RemoveTemporaries(PendingInstall pending)
    {
        var root = node.Root;
        // the folder each changed path is in, not the folder of what it leads to: a moved link's temporary is beside the link
        foreach (var folder in pending.ChangedFiles.Select(f => root.Resolve(Path.GetDirectoryName(f)!)).Distinct(StringComparer.Ordinal))
        {
            AtomicFile.RemoveStaleTemporaries(folder);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 310, Level = LogLevel.Warning, Message = "Install step {StepId} was interrupted at phase {Phase}: {Message}")]
        public static partial void Recovered(ILogger logger, string stepId, string phase, string message);

        [LoggerMessage(EventId = 311, Level = LogLevel.Critical, Message = "An interrupted install could not be resolved; installs are refused until it is: {Message}")]
        public static partial void RecoveryFailed(ILogger logger, string message);
    }
}
