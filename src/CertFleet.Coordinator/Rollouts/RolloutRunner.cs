using CertFleet.Coordinator.Audit;
using CertFleet.Coordinator.State;
using CertFleet.Protocol.V1;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CertFleet.Coordinator.Rollouts;

/// <summary>
/// Runs the running rollout batch by batch: the steps of a batch together, the next batch only when every step
/// of this one passed its gate. A failed step halts the rollout and rolls its node back; nothing else proceeds
/// until the operator resumes or aborts. Every transition is persisted first, so after a coordinator restart the
/// first unfinished batch is simply sent again (agents answer a known step id from their journal).
/// </summary>
/// <param name="lease">the coordinator group's lease: rollouts run only while this coordinator holds it, each term
/// under its token (null: always, for tests that run a runner alone)</param>
internal sealed partial class RolloutRunner(RolloutStore store, RolloutStepExecutor executor, AuditLog audit, TimeProvider time, ILogger<RolloutRunner> logger,
    Group.CoordinatorLease? lease = null)
    : BackgroundService
{
    /// <summary>After an unexpected failure (say, the database), try again this much later, or when woken.</summary>
    private static readonly TimeSpan RetryAfterFailure = TimeSpan.FromMinutes(1);

    private readonly SemaphoreSlim _wake = new(0);
    private readonly SemaphoreSlim _single = new(1, 1);

    /// <summary>A rollout was started or resumed: look for work now.</summary>
    public void Wake() => _wake.Release();

    /// <summary>False on a standby of a coordinator group: the active coordinator runs (and writes) the rollouts.</summary>
    public bool RunsRollouts => lease is null || lease.IsActive;

    /// <summary>Runs the running rollout, if any, until it completes, halts or is aborted.</summary>
    public async Task RunUnfinishedAsync(CancellationToken cancellationToken)
    {
        await _single.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (store.FindUnfinished() is { State: RolloutState.Running } rollout)
            {
                await RunAsync(rollout.Id, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _single.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (true)
            {
                if (lease is { IsActive: false })
                {
                    // a standby: the active coordinator runs the rollouts; woken when this one takes the lease
                    await _wake.WaitAsync(stoppingToken).ConfigureAwait(false);
                    continue;
                }
                // the term ends when the lease is lost: the step in flight stays "running", and whoever holds the lease
                // next resumes it as a restarted coordinator does (the agent's journal answers a step sent twice)
                using var term = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, lease?.Term ?? CancellationToken.None);
                try
                {
                    await RunUnfinishedAsync(term.Token).ConfigureAwait(false);
                    await _wake.WaitAsync(term.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested && (e is LeaseLostException || (e is OperationCanceledException && term.IsCancellationRequested)))
                {
                    Log.TermEnded(logger, e.Message);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    Log.RunFailed(logger, e);
                    using var retry = new CancellationTokenSource(RetryAfterFailure, time);
                    using var either = CancellationTokenSource.CreateLinkedTokenSource(retry.Token, stoppingToken);
                    try
                    {
                        await _wake.WaitAsync(either.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                    {
                        // the minute is up: try again
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // shutting down: a step in flight stays "running" and is sent again after the restart
        }
    }

    private async Task RunAsync(string id, CancellationToken cancellationToken)
    {
        Log.Running(logger, id);
        while (store.Find(id) is { State: RolloutState.Running } rollout)
        {
            var pending = rollout.Steps.Where(s => !s.State.IsFinished()).ToList();
            if (pending.Count == 0)
            {
                if (store.Transition(id, [RolloutState.Running], RolloutState.Completed, "", Now()))
                {
                    Log.Completed(logger, id, rollout.Steps.Count);
                    audit.Append(new AuditRecord(AuditKinds.RolloutCompleted, "coordinator") { RolloutId = id, Detail = $"{rollout.Steps.Count} steps" });
                }
                return;
            }
            var batch = pending.Min(s => s.Batch);
            var steps = pending.Where(s => s.Batch == batch).OrderBy(s => s.Sequence).ToList();
            // "running" already: the coordinator stopped (or was killed) in the middle of it; the agent's journal knows the step id
            var resumed = steps.Where(s => s.State == StepState.Running).Select(s => s.Sequence).ToHashSet();
            var started = Now();
            foreach (var step in steps)
            {
                step.State = StepState.Running;
                step.StartedAt ??= started;
            }
            // one commit marks the whole batch running: a commit (an fsync) per step made a batch of 2,000 wait seconds to start
            store.SaveSteps(rollout.Id, steps);
            var outcomes = await Task.WhenAll(steps.Select(s => RunStepAsync(rollout, s, resumed.Contains(s.Sequence), cancellationToken))).ConfigureAwait(false);
            var failed = steps.Zip(outcomes).Where(p => !p.Second.Ok).Select(p => p.First).ToList();
            if (failed.Count > 0)
            {
                await HaltAsync(rollout, failed, cancellationToken).ConfigureAwait(false);
                return;
            }
            Log.GatePassed(logger, id, batch, steps.Count);
        }
    }

    private async Task<StepOutcome> RunStepAsync(Rollout rollout, RolloutStep step, bool resumed, CancellationToken cancellationToken)
    {
        Log.StepStarted(logger, rollout.Id, step.Sequence, step.Kind.ToText(), step.Node, step.Unit);
        var outcome = await executor.ExecuteAsync(rollout, step, resumed, cancellationToken).ConfigureAwait(false);
        step.State = outcome.Ok ? StepState.Succeeded : StepState.Failed;
        step.Message = outcome.Message;
        step.ProbeOutput = outcome.ProbeOutput;
        step.FinishedAt = Now();
        store.SaveSteps(rollout.Id, step);
        if (outcome.Ok)
        {
            Log.StepSucceeded(logger, rollout.Id, step.Sequence, step.Kind.ToText(), step.Node, step.Unit, outcome.Message);
        }
        else
        {
            Log.StepFailed(logger, rollout.Id, step.Sequence, step.Kind.ToText(), step.Node, step.Unit, outcome.Message, outcome.ProbeOutput);
        }
        return outcome;
    }

    /// <summary>Rolls each failing node back to the files it had before this rollout, then halts.</summary>
    private async Task HaltAsync(Rollout rollout, IReadOnlyList<RolloutStep> failed, CancellationToken cancellationToken)
    {
        var reasons = new List<string>();
        var changed = new List<RolloutStep>();
        var nextSequence = rollout.Steps.Max(s => s.Sequence);
        foreach (var step in failed)
        {
            var reason = $"{step.Kind.ToText()} of {Describe(step)} failed: {step.Message}";
            if (!string.IsNullOrWhiteSpace(step.ProbeOutput))
            {
                reason += $" (probe: {step.ProbeOutput.Trim()})";
            }
            // the node's newest file-writing step (an install, or a re-key's): its backup puts back what this rollout last wrote there
            var install = rollout.Steps.LastOrDefault(s => s.Kind.WritesFiles() && s.Node == step.Node
                && s.State is StepState.Succeeded or StepState.Failed or StepState.Running);
            // a failed gate only halts: the files are what the phase wants, and putting them back would not restart anything
            if ((step.Kind.WritesFiles() || step.Kind == StepKind.Restart) && install is not null)
            {
                var rollback = new RolloutStep
                {
                    Sequence = ++nextSequence, Batch = step.Batch, Kind = StepKind.Rollback, Node = step.Node, Unit = step.Unit,
                    State = StepState.Running, StartedAt = Now(),
                };
                store.SaveSteps(rollout.Id, rollback);
                Log.RollingBack(logger, rollout.Id, step.Node, step.Unit);
                var units = step.Kind == StepKind.Restart ? [step.Unit] : Array.Empty<string>();
                // an agent that hung up mid-step (say, it restarted) is waited for: its node may hold the new files
                var outcome = await executor.RollbackAsync(rollout, rollback, RolloutStepExecutor.StepId(rollout.Id, install), units, cancellationToken,
                    awaitConnection: true).ConfigureAwait(false);
                rollback.State = outcome.Ok ? StepState.Succeeded : StepState.Failed;
                rollback.Message = outcome.Message;
                rollback.ProbeOutput = outcome.ProbeOutput;
                rollback.FinishedAt = Now();
                changed.Add(rollback);
                if (outcome.Ok)
                {
                    install.State = StepState.RolledBack;
                    changed.Add(install);
                    reason += $"; {step.Node} was rolled back to its previous files";
                }
                else
                {
                    reason += $"; rolling {step.Node} back failed too: {outcome.Message}";
                }
                Log.RolledBack(logger, rollout.Id, step.Node, outcome.Ok, outcome.Message);
            }
            reasons.Add(reason);
        }
        var haltReason = string.Join(Environment.NewLine, reasons);
        if (store.Transition(rollout.Id, [RolloutState.Running], RolloutState.Halted, haltReason, null, changed))
        {
            Log.Halted(logger, rollout.Id, haltReason);
            audit.Append(new AuditRecord(AuditKinds.RolloutHalted, "coordinator") { RolloutId = rollout.Id, Reason = haltReason });
        }
        else
        {
            store.SaveSteps(rollout.Id, changed); // aborted meanwhile: keep the record of what was done
        }
    }

    private static string Describe(RolloutStep step) => step.Unit.Length > 0 ? $"{step.Unit} on {step.Node}" : step.Node;

    private Timestamp Now() => Timestamp.FromDateTimeOffset(time.GetUtcNow());

    private static partial class Log
    {
        [LoggerMessage(EventId = 3010, Level = LogLevel.Information, Message = "Rollout {Rollout} running")]
        public static partial void Running(ILogger logger, string rollout);

        [LoggerMessage(EventId = 3011, Level = LogLevel.Information, Message = "Rollout {Rollout} step {Sequence} ({Kind} {Node} {Unit}) started")]
        public static partial void StepStarted(ILogger logger, string rollout, int sequence, string kind, string node, string unit);

        [LoggerMessage(EventId = 3012, Level = LogLevel.Information, Message = "Rollout {Rollout} step {Sequence} ({Kind} {Node} {Unit}) succeeded: {Message}")]
        public static partial void StepSucceeded(ILogger logger, string rollout, int sequence, string kind, string node, string unit, string message);

        [LoggerMessage(EventId = 3013, Level = LogLevel.Error, Message = "Rollout {Rollout} step {Sequence} ({Kind} {Node} {Unit}) failed: {Message} {Probe}")]
        public static partial void StepFailed(ILogger logger, string rollout, int sequence, string kind, string node, string unit, string message, string probe);

        [LoggerMessage(EventId = 3014, Level = LogLevel.Information, Message = "Rollout {Rollout} batch {Batch}: gate passed for all {Steps} steps")]
        public static partial void GatePassed(ILogger logger, string rollout, int batch, int steps);

        [LoggerMessage(EventId = 3015, Level = LogLevel.Warning, Message = "Rollout {Rollout}: rolling {Node} back ({Unit})")]
        public static partial void RollingBack(ILogger logger, string rollout, string node, string unit);

        [LoggerMessage(EventId = 3016, Level = LogLevel.Warning, Message = "Rollout {Rollout}: rollback of {Node} ok={Ok}: {Message}")]
        public static partial void RolledBack(ILogger logger, string rollout, string node, bool ok, string message);

        [LoggerMessage(EventId = 3017, Level = LogLevel.Error, Message = "Rollout {Rollout} halted: {Reason}")]
        public static partial void Halted(ILogger logger, string rollout, string reason);

        [LoggerMessage(EventId = 3019, Level = LogLevel.Error, Message = "Running the rollout failed; trying again in a minute")]
        public static partial void RunFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 3018, Level = LogLevel.Information, Message = "Rollout {Rollout} completed ({Steps} steps)")]
        public static partial void Completed(ILogger logger, string rollout, int steps);

        [LoggerMessage(EventId = 3044, Level = LogLevel.Warning, Message = "This coordinator no longer holds the lease; the active coordinator resumes the rollout ({Reason})")]
        public static partial void TermEnded(ILogger logger, string reason);
    }
}
