using CertFleet.Agent.Gates;
using CertFleet.Agent.Options;
using CertFleet.Agent.Steps;
using CertFleet.Pki;
using CertFleet.Pki.Certificates;
using CertFleet.Pki.Files;
using CertFleet.Pki.Inventory;
using CertFleet.Pki.Rekey;
using CertFleet.Pki.Renewal;
using CertFleet.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace CertFleet.Agent.Handlers;

/// <summary>
/// RekeyRequest: one phase of a CA re-key on this node (docs/CA-REKEY.md), a journaled transaction like an install
/// (<see cref="InstallTransaction"/>: a crash is finished or undone at the next start; the same step sent again is not
/// redone), verified locally and undone from its backup if it made anything worse. The trust phase first splits the
/// files kube-controller-manager signs with from the ones it trusts, as its own journaled install ("STEP/split"),
/// and reloads systemd when a unit file changed. Journaled as kind "install", so the restarts of the units it names
/// and a rollback from its backup work as for a renewal.
/// </summary>
internal sealed partial class RekeyHandler(
    AgentOptions options, NodeAccess node, StepJournal journal, InstallTransaction transaction, InstallRecovery recovery,
    InstallHandler installs, TimeProvider time, ILogger<RekeyHandler> logger)
{
    private static readonly TimeSpan ReloadLimit = TimeSpan.FromMinutes(1);

    public RekeyPreview Preview(RekeyRequest request)
    {
        var preview = new RekeyPreview();
        if (Read(request, out var authorities, out var stage) is { } refused)
        {
            preview.Problems.Add(new ReportedError { Path = "/", Message = refused });
            return preview;
        }
        using var inventory = node.Scan();
        var found = RekeyInstaller.Preview(inventory, stage, authorities);
        preview.Files.Add(found.Files);
        preview.Units.Add(found.Units);
        preview.Problems.Add(found.Problems.Select(p => new ReportedError { Path = p.Path, Message = p.Message }));
        preview.SigningFiles.Add(found.SigningFiles);
        preview.HoldsOldKey = found.HoldsOldKey;
        preview.TrustFiles.Add(found.TrustFiles);
        return preview;
    }

    public async Task<StepResult> HandleAsync(RekeyRequest request, CancellationToken cancellationToken)
    {
        var failed = new JournalEntry { StepId = request.StepId, RolloutId = request.RolloutId, Kind = "install", Ok = false, FinishedAt = time.GetUtcNow() };
        if (Read(request, out var authorities, out var stage) is { } refused)
        {
            return (failed with { Message = $"nothing written: {refused}" }).ToResult();
        }
        if (stage == RekeyStage.Trust && await SplitAsync(request, authorities, cancellationToken) is { Ok: false } splitFailed)
        {
            return splitFailed.ToResult();
        }
        lock (installs.OneAtATime)
        {
            recovery.Recover();
            if (journal.Find(request.StepId) is { Kind: "install", Ok: true } done)
            {
                Log.AnsweredFromJournal(logger, request.StepId);
                return done.ToResult();
            }
            Log.StepStart(logger, request.StepId, stage.ToString(), authorities.Count);
            transaction.Begin(request.StepId, request.RolloutId, time.GetUtcNow());
            var entry = Apply(failed, stage, authorities);
            if (!entry.Ok && entry.BackupDirectory is null && transaction.Read()?.BackupDirectory is { } begun && BackupSet.Exists(node.Root, begun))
            {
                entry = entry with { BackupDirectory = begun };
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

    private JournalEntry Apply(JournalEntry failed, RekeyStage stage, IReadOnlyList<RekeyPair> authorities)
    {
        using var inventory = node.Scan();
        var before = NewProblems.Of(inventory, time);
        var units = RekeyInstaller.StageUnits(inventory, stage, authorities);
        InstallResult result;
        try
        {
            result = new RekeyInstaller(time).Apply(inventory, stage, authorities, transaction);
        }
        catch (PkiException e)
        {
            return failed with { Message = e.Message };
        }
        if (result.BackupDirectory is null)
        {
            return failed with { Ok = true, Message = $"{Describe(stage)}: already in place, nothing written", Units = units };
        }
        return InstallVerification.Check(node, before, result, failed, Describe(stage),
            $"{Describe(stage)}: wrote {result.ChangedFiles.Count} file(s)", RestartOrder.Sort(result.UnitsToRestart.Concat(units)), time);
    }

    /// <summary>
    /// The signing split before the trust phase, journaled under its own id so that a resumed trust step neither splits
    /// twice nor loses the units it restarts; a finished split plans nothing, so it is also safe to run again.
    /// </summary>
    private async Task<JournalEntry?> SplitAsync(RekeyRequest request, IReadOnlyList<RekeyPair> authorities, CancellationToken cancellationToken)
    {
        var splitId = request.StepId + "/split";
        var failed = new JournalEntry { StepId = splitId, RolloutId = request.RolloutId, Kind = "install", Ok = false, FinishedAt = time.GetUtcNow() };
        SigningSplitResult result;
        JournalEntry entry;
        lock (installs.OneAtATime)
        {
            recovery.Recover();
            if (journal.Find(splitId) is { Kind: "install", Ok: true } || journal.Find(request.StepId) is { Kind: "install", Ok: true })
            {
                return null;
            }
            using var inventory = node.Scan();
            if (RekeyInstaller.SplitPlan(inventory, authorities).IsEmpty)
            {
                return null;
            }
            transaction.Begin(splitId, request.RolloutId, time.GetUtcNow());
            try
            {
                result = new RekeyInstaller(time).Split(inventory, authorities, transaction);
            }
            catch (PkiException e)
            {
                entry = failed with { Message = $"splitting the signing files off failed: {e.Message}" };
                transaction.Commit(entry);
                return entry;
            }
            entry = failed with
            {
                Ok = true,
                Message = $"split the signing files off: {string.Join(", ", result.Install.ChangedFiles)}; backup in {result.Install.BackupDirectory}",
                BackupDirectory = result.Install.BackupDirectory,
                ChangedFiles = result.Install.ChangedFiles,
                Units = result.Install.UnitsToRestart,
            };
        }
        if (result.DaemonReload && await ReloadAsync(cancellationToken) is { } reloadFailed)
        {
            lock (installs.OneAtATime)
            {
                BackupSet.Open(node.Root, entry.BackupDirectory!).RestoreAll();
                entry = failed with
                {
                    Message = $"split the signing files off, but {reloadFailed}; the unit files were put back from {entry.BackupDirectory}",
                    BackupDirectory = entry.BackupDirectory,
                };
                transaction.Commit(entry);
                return entry;
            }
        }
        lock (installs.OneAtATime)
        {
            transaction.Verified(entry);
            transaction.Commit(entry);
        }
        Log.Split(logger, splitId, entry.Message);
        return entry;
    }

    /// <summary>systemd reads unit files only when told: the split changed one, so the next restart must see it.</summary>
    private async Task<string?> ReloadAsync(CancellationToken cancellationToken)
    {
        var command = options.DaemonReloadCommand ?? (options.RestartCommand is null ? "systemctl daemon-reload" : null);
        if (command is null)
        {
            Log.NoReload(logger);
            return null;
        }
        var outcome = await ShellCommand.RunAsync(command, ReloadLimit, cancellationToken);
        return outcome.Succeeded ? null : $"reloading systemd failed: {outcome.Describe(command)}";
    }

    private static string? Read(RekeyRequest request, out IReadOnlyList<RekeyPair> authorities, out RekeyStage stage)
    {
        authorities = [];
        stage = request.Action switch
        {
            RekeyAction.Trust => RekeyStage.Trust,
            RekeyAction.SwitchSigning => RekeyStage.SwitchSigning,
            RekeyAction.Retire => RekeyStage.Retire,
            _ => (RekeyStage)(-1),
        };
        if (!Enum.IsDefined(stage))
        {
            return $"the re-key action {request.Action} is not one this agent knows; upgrade it";
        }
        if (request.Authorities.Count is 0 or > 16)
        {
            return $"a re-key names 1 to 16 CAs, not {request.Authorities.Count}";
        }
        var read = new List<RekeyPair>();
        try
        {
            foreach (var authority in request.Authorities)
            {
                var old = CertificateInfo.Parse(authority.OldCaDer.Span, "the old CA sent");
                var next = CertificateInfo.Parse(authority.NewCaDer.Span, "the new CA sent");
                if (!old.IsCa || !next.IsCa || old.SubjectPublicKeyInfoDer.AsSpan().SequenceEqual(next.SubjectPublicKeyInfoDer))
                {
                    return $"the re-key of {old.Subject} must name two CA certificates with different keys";
                }
                read.Add(new RekeyPair(old, next, authority.NewCaKeyPem.Length > 0 ? authority.NewCaKeyPem : null));
            }
        }
        catch (PkiException e)
        {
            return e.Message;
        }
        authorities = read;
        return null;
    }

    private static string Describe(RekeyStage stage) => stage switch
    {
        RekeyStage.Trust => "trust (old + new CA in every trust file)",
        RekeyStage.SwitchSigning => "switch-signing (the signing pair to the new CA)",
        _ => "retire (the old CA out of every trust file)",
    };

    private static partial class Log
    {
        [LoggerMessage(EventId = 600, Level = LogLevel.Information, Message = "Re-key step {StepId}: {Stage} for {Count} CA(s)")]
        public static partial void StepStart(ILogger logger, string stepId, string stage, int count);

        [LoggerMessage(EventId = 601, Level = LogLevel.Information, Message = "Re-key step {StepId} finished, ok={Ok}: {Message}")]
        public static partial void StepEnd(ILogger logger, string stepId, bool ok, string message);

        [LoggerMessage(EventId = 602, Level = LogLevel.Information, Message = "Re-key step {StepId} was already done; answered from the journal")]
        public static partial void AnsweredFromJournal(ILogger logger, string stepId);

        [LoggerMessage(EventId = 603, Level = LogLevel.Information, Message = "Re-key step {StepId}: {Message}")]
        public static partial void Split(ILogger logger, string stepId, string message);

        [LoggerMessage(EventId = 604, Level = LogLevel.Warning, Message = "A unit file changed and --restart-command is set without --daemon-reload-command: not reloading systemd")]
        public static partial void NoReload(ILogger logger);
    }
}
