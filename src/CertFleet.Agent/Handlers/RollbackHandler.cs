using CertFleet.Agent.Options;
using CertFleet.Agent.Steps;
using CertFleet.Pki;
using CertFleet.Pki.Files;
using CertFleet.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace CertFleet.Agent.Handlers;

/// <summary>
/// RollbackRequest: puts back the files of an install from its backup (found in the journal, so this works after an
/// agent restart), restarts the units named on the old files with the same gates, and verifies the node.
/// </summary>
internal sealed partial class RollbackHandler(AgentOptions options, NodeAccess node, UnitRestart restart, StepJournal journal, TimeProvider time, ILogger<RollbackHandler> logger)
{
    public async Task<StepResult> HandleAsync(RollbackRequest request, CancellationToken cancellationToken)
    {
        if (journal.Find(request.StepId) is { Kind: "rollback", Ok: true } done)
        {
            return done.ToResult();
        }
        var entry = await RollBackAsync(request, cancellationToken);
        journal.Record(entry);
        Log.StepEnd(logger, request.StepId, request.InstallStepId, entry.Ok, entry.Message);
        return entry.ToResult();
    }

    private async Task<JournalEntry> RollBackAsync(RollbackRequest request, CancellationToken cancellationToken)
    {
        var entry = new JournalEntry { StepId = request.StepId, RolloutId = request.RolloutId, Kind = "rollback", Ok = false, FinishedAt = time.GetUtcNow() };
        var install = journal.Find(request.InstallStepId);
        if (install is { Kind: "install", Ok: false, BackupDirectory: null })
        {
            // the install failed or was undone at the agent's restart before changing a file: the node has its old files
            return entry with
            {
                Ok = true,
                Message = $"nothing to roll back: install {request.InstallStepId} changed no file on this node ({install.Message})",
            };
        }
        if (install is null && journal.RemembersEveryStep())
        {
            // the agent died (or the stream broke) before the install began: nothing on the node changed
            return entry with
            {
                Ok = true,
                Message = $"nothing to roll back: install {request.InstallStepId} never began on this node (it is not in the journal {journal.FilePath})",
            };
        }
        if (install is not { Kind: "install", BackupDirectory: { } backupDirectory })
        {
            return entry with
            {
                Message = $"no install step {request.InstallStepId} with a backup in the journal {journal.FilePath}; nothing was restored",
            };
        }
        Log.StepStart(logger, request.StepId, request.InstallStepId, backupDirectory);
        var before = ScanProblems();
        try
        {
            BackupSet.Open(node.Root, backupDirectory).RestoreAll();
        }
        catch (PkiException e)
        {
            return entry with { Message = e.Message, BackupDirectory = backupDirectory };
        }
        entry = entry with { BackupDirectory = backupDirectory, ChangedFiles = install.ChangedFiles, Units = request.Units.ToList() };

        var failures = new List<string>();
        var probes = new List<string>();
        foreach (var unit in request.Units)
        {
            // only the services that use what this install changed: a rollback is no way around the restart scope
            var outcome = await restart.RunAsync(unit, RestartScope.OfInstall(install), options.GateTimeout, cancellationToken);
            probes.Add(outcome.ProbeOutput);
            if (!outcome.Ok)
            {
                failures.Add(outcome.Message);
            }
        }
        using (var after = node.Scan())
        {
            var problems = NewProblems.Since(before, after, time);
            if (problems.Count > 0)
            {
                failures.Add("local verification: " + NewProblems.Describe(problems));
            }
        }
        var probeOutput = string.Join("\n", probes.Where(p => p.Length > 0));
        return failures.Count == 0
            ? entry with { Ok = true, Message = $"restored {install.ChangedFiles.Count} file(s) from {backupDirectory}; {request.Units.Count} unit(s) restarted and healthy", ProbeOutput = probeOutput }
            : entry with { Message = $"restored the files from {backupDirectory}, but: {string.Join("; ", failures)}", ProbeOutput = probeOutput };
    }

    private IReadOnlyList<Pki.Verification.VerificationProblem> ScanProblems()
    {
        using var inventory = node.Scan();
        return NewProblems.Of(inventory, time);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 500, Level = LogLevel.Warning, Message = "Rollback step {StepId}: restoring install {InstallStepId} from {Backup}")]
        public static partial void StepStart(ILogger logger, string stepId, string installStepId, string backup);

        [LoggerMessage(EventId = 501, Level = LogLevel.Warning, Message = "Rollback step {StepId} of install {InstallStepId} finished, ok={Ok}: {Message}")]
        public static partial void StepEnd(ILogger logger, string stepId, string installStepId, bool ok, string message);
    }
}
