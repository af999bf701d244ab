using CertFleet.Coordinator.Audit;
using CertFleet.Protocol.V1;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Logging;

namespace CertFleet.Coordinator.Rollouts;

/// <summary>
/// `certfleet rollback --rollout ID [--node N]`: puts back, from the backups its install steps made, the files a
/// rollout installed, node after node in runbook order (masters before workers, as the plan ordered them), each
/// node restarting the units that had already been restarted on the new files. A rollback step is recorded per
/// node; when every install of the rollout is rolled back, the rollout ends "rolled-back".
/// </summary>
internal sealed partial class RolloutRollback(RolloutStore store, RolloutStepExecutor executor, AuditLog audit, TimeProvider time,
    ILogger<RolloutRollback> logger)
{
    /// <summary>Rolls back; a node whose rollback fails is a failed rollback step (the rest still go ahead).</summary>
    public async Task<Rollout> RollBackAsync(string id, string node, CancellationToken cancellationToken)
    {
        var rollout = store.Find(id) ?? throw new KeyNotFoundException($"no rollout '{id}'; `certfleet rollout list` shows them");
        if (rollout.State == RolloutState.Running)
        {
            throw new InvalidOperationException(
                $"rollout {id} is running; stop it first with `certfleet rollout abort {id}`, then roll it back");
        }
        if (rollout.Request.RekeyCa is not null)
        {
            // restoring files phase by phase could put old-CA leaves back where only the new CA is trusted
            throw new InvalidOperationException(
                $"rollout {id} is a CA re-key, which is not rolled back file by file: every phase before retire leaves both CAs trusted, " +
                $"so `certfleet rollout abort {id}` stops it safely where it is, and `certfleet rollout resume {id}` finishes it");
        }
        var installs = Installed(rollout).Where(s => node.Length == 0 || s.Node == node).ToList();
        if (installs.Count == 0)
        {
            throw new InvalidOperationException(node.Length == 0
                ? $"rollout {id} has no installed files left to roll back (see `certfleet rollout show {id}`)"
                : $"rollout {id} has no installed files on node {node} to roll back (see `certfleet rollout show {id}`)");
        }
        var next = rollout.Steps.Max(s => s.Sequence);
        var batch = rollout.Steps.Max(s => s.Batch) + 1;
        var failures = 0;
        foreach (var install in installs)
        {
            var units = rollout.Steps
                .Where(s => s is { Kind: StepKind.Restart, State: StepState.Succeeded } && s.Node == install.Node && s.Sequence > install.Sequence)
                .OrderBy(s => s.Batch).ThenBy(s => s.Sequence).Select(s => s.Unit).Distinct(StringComparer.Ordinal).ToList();
            var step = new RolloutStep
            {
                Sequence = ++next, Batch = batch, Kind = StepKind.Rollback, Node = install.Node, Unit = string.Join(" ", units),
                State = StepState.Running, StartedAt = Now(),
            };
            store.SaveSteps(id, step);
            Log.RollingBack(logger, id, install.Node, step.Unit);
            var outcome = await executor.RollbackAsync(rollout, step, RolloutStepExecutor.StepId(id, install), units, cancellationToken).ConfigureAwait(false);
            step.State = outcome.Ok ? StepState.Succeeded : StepState.Failed;
            step.Message = outcome.Message;
            step.ProbeOutput = outcome.ProbeOutput;
            step.FinishedAt = Now();
            if (outcome.Ok)
            {
                install.State = StepState.RolledBack;
                store.SaveSteps(id, step, install);
            }
            else
            {
                failures++;
                store.SaveSteps(id, step);
            }
            Log.RolledBack(logger, id, install.Node, outcome.Ok, outcome.Message);
        }
        var after = store.Find(id)!;
        var whole = !Installed(after).Any();
        if (whole)
        {
            store.Transition(id, [RolloutState.Halted, RolloutState.Aborted, RolloutState.Completed, RolloutState.RolledBack],
                RolloutState.RolledBack, after.HaltReason, Now());
        }
        audit.Append(new AuditRecord(AuditKinds.RolloutRolledBack, "admin")
        {
            RolloutId = id, Node = node,
            Detail = $"{installs.Count - failures} of {installs.Count} node(s) rolled back{(whole ? "; the rollout is rolled-back" : "")}",
            Reason = failures > 0 ? $"{failures} node(s) could not be rolled back" : "",
        });
        return store.Find(id)!;
    }

    /// <summary>The newest install per node whose files may be on the node now (a running one may have written them).</summary>
    private static IEnumerable<RolloutStep> Installed(Rollout rollout) =>
        rollout.Steps.Where(s => s.Kind == StepKind.Install)
            .GroupBy(s => s.Node, StringComparer.Ordinal)
            .Select(g => g.MaxBy(s => s.Sequence)!)
            .Where(s => s.State is StepState.Succeeded or StepState.Running)
            .OrderBy(s => s.Batch).ThenBy(s => s.Sequence);

    private Timestamp Now() => Timestamp.FromDateTimeOffset(time.GetUtcNow());

    private static partial class Log
    {
        [LoggerMessage(EventId = 3030, Level = LogLevel.Warning, Message = "Rollout {Rollout}: the operator rolls {Node} back (restarting: {Units})")]
        public static partial void RollingBack(ILogger logger, string rollout, string node, string units);

        [LoggerMessage(EventId = 3031, Level = LogLevel.Warning, Message = "Rollout {Rollout}: rollback of {Node} on demand ok={Ok}: {Message}")]
        public static partial void RolledBack(ILogger logger, string rollout, string node, bool ok, string message);
    }
}
