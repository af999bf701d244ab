using CertFleet.Agent.Steps;
using CertFleet.Pki;
using CertFleet.Pki.Certificates;
using CertFleet.Pki.Files;
using CertFleet.Pki.Renewal;
using CertFleet.Pki.Text;
using CertFleet.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace CertFleet.Agent.Handlers;

/// <summary>
/// InstallRequest: puts the new certificates in place (backup first, every temporary written and flushed, then the
/// renames), verifies the node, and puts the backup back if the install made anything worse. A journaled
/// transaction (<see cref="InstallTransaction"/>): a crash at any point is finished or undone at the next start, and
/// the same step sent again is not redone once committed.
/// </summary>
internal sealed partial class InstallHandler(
    NodeAccess node, StepJournal journal, InstallTransaction transaction, InstallRecovery recovery, TimeProvider time, ILogger<InstallHandler> logger)
{
    /// <summary>One install-like transaction at a time on this node (installs and re-key steps share the in-progress record).</summary>
    public Lock OneAtATime { get; } = new();

    public StepResult Handle(InstallRequest request)
    {
        lock (OneAtATime)
        {
            // an install interrupted earlier is resolved first (normally done at start already)
            recovery.Recover();
            if (journal.Find(request.StepId) is { Kind: "install", Ok: true } done)
            {
                Log.AnsweredFromJournal(logger, request.StepId);
                return done.ToResult();
            }
            // an earlier attempt that was undone from a backup: its folder stays on the node, so the answer names it
            var earlier = journal.Find(request.StepId) is { Kind: "install", Ok: false, BackupDirectory: not null } undone ? undone : null;
            Log.StepStart(logger, request.StepId, request.Replacements.Count + request.SelfSigned.Count);
            transaction.Begin(request.StepId, request.RolloutId, time.GetUtcNow());
            var entry = Install(request);
            if (!entry.Ok && entry.BackupDirectory is null && transaction.Read()?.BackupDirectory is { } begun && BackupSet.Exists(node.Root, begun))
            {
                // a failed install whose backup stays (e.g. files put back from it): a rollback must find it
                entry = entry with { BackupDirectory = begun };
            }
            if (earlier is not null)
            {
                entry = entry with { Message = $"{entry.Message} (an earlier attempt of this step: {earlier.Message})" };
            }
            if (entry.Ok && entry.BackupDirectory is not null)
            {
                transaction.Verified(entry);
            }
            transaction.Commit(entry);
            Log.StepEnd(logger, request.StepId, entry.Ok, entry.Message);
            return entry.ToResult();
        }
    }

    private JournalEntry Install(InstallRequest request)
    {
        var failed = new JournalEntry { StepId = request.StepId, RolloutId = request.RolloutId, Kind = "install", Ok = false, FinishedAt = time.GetUtcNow() };
        Dictionary<string, CertificateInfo> replacements;
        try
        {
            replacements = request.Replacements.ToDictionary(
                r => r.OldFingerprint.ToUpperInvariant(),
                r => CertificateInfo.Parse(r.CertificateDer.Span, $"replacement for {Sha256Text.FormatFingerprint(r.OldFingerprint)}"),
                StringComparer.Ordinal);
        }
        catch (Exception e) when (e is PkiException or ArgumentException)
        {
            return failed with { Message = $"nothing installed: {e.Message}" };
        }

        using var inventory = node.Scan();
        var removals = new HashSet<string>(StringComparer.Ordinal);
        if (SelfSignedRenewals.AddTo(inventory, request, time, replacements, removals) is { } refused)
        {
            return failed with { Message = $"nothing installed: {refused}" };
        }
        var present = inventory.Certificates.Select(c => c.Certificate.Sha256Fingerprint).ToHashSet(StringComparer.Ordinal);
        var missing = replacements.Where(r => !present.Contains(r.Key) && !present.Contains(r.Value.Sha256Fingerprint)).ToList();
        if (missing.Count > 0)
        {
            return failed with
            {
                Message = $"nothing installed: {missing.Count} certificate(s) to replace are not on this node ({string.Join(", ", missing.Select(m => m.Value.Subject))}); ask for a fresh inventory",
            };
        }
        var before = NewProblems.Of(inventory, time);

        InstallResult result;
        try
        {
            result = new CertificateInstaller(time).Install(inventory, replacements, transaction, removals);
        }
        catch (PkiException e)
        {
            return failed with { Message = e.Message };
        }
        if (result.BackupDirectory is null)
        {
            // what this rollout installs is in place (an earlier install put it there): its services are this rollout's to restart
            var installed = replacements.Values.Select(c => c.Sha256Fingerprint).ToHashSet(StringComparer.Ordinal);
            return failed with
            {
                Ok = true,
                Message = "already installed: every certificate sent is in place",
                Units = RestartOrder.Sort(inventory.Certificates.Where(c => installed.Contains(c.Certificate.Sha256Fingerprint)).SelectMany(c => c.UsedBy)),
            };
        }

        var entry = InstallVerification.Check(node, before, result, failed, "the install",
            $"installed {replacements.Count} certificate(s) into {result.ChangedFiles.Count} file(s)", result.UnitsToRestart, time);
        if (!entry.Ok)
        {
            Log.RolledBack(logger, request.StepId, result.BackupDirectory);
        }
        return entry;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 300, Level = LogLevel.Information, Message = "Install step {StepId}: {Count} replacement(s)")]
        public static partial void StepStart(ILogger logger, string stepId, int count);

        [LoggerMessage(EventId = 301, Level = LogLevel.Information, Message = "Install step {StepId} finished, ok={Ok}: {Message}")]
        public static partial void StepEnd(ILogger logger, string stepId, bool ok, string message);

        [LoggerMessage(EventId = 302, Level = LogLevel.Information, Message = "Install step {StepId} was already done; answered from the journal")]
        public static partial void AnsweredFromJournal(ILogger logger, string stepId);

        [LoggerMessage(EventId = 303, Level = LogLevel.Warning, Message = "Install step {StepId} failed verification; rolled back from {Backup}")]
        public static partial void RolledBack(ILogger logger, string stepId, string backup);
    }
}
