using System.Diagnostics;
using CertFleet.Cli.Fleet;
using CertFleet.Cli.Output;
using CertFleet.Protocol.V1;
using Grpc.Core;
using static CertFleet.Cli.Output.TerminalText;

namespace CertFleet.Cli.Commands;

/// <summary>`certfleet renew` without --local: starts a rollout at the coordinator and, with --wait, follows it to the end.</summary>
internal static class FleetRenewal
{
    /// <summary>
    /// How long `--wait` waits for a coordinator to answer after it lost one: a group's takeover (the lease's expiry
    /// and a round, 10-20 s by default) or a coordinator's restart, with room to spare.
    /// </summary>
    private static readonly TimeSpan ReconnectWithin = TimeSpan.FromSeconds(90);

    private static readonly TimeSpan ReconnectEvery = TimeSpan.FromSeconds(2);

    public static async Task<int> RunAsync(CliContext context, AdminService.AdminServiceClient admin, RolloutRequest request,
        bool wait, bool detail, CancellationToken cancellation)
    {
        var rollout = await admin.StartRolloutAsync(request, cancellationToken: cancellation);
        detail |= RolloutProgress.IsSmall(rollout.Steps.Count);
        context.Output.WriteLine($"Started rollout {rollout.Id} ({rollout.Steps.Count} steps).");
        WriteRefused(context.Output, rollout.Refused, detail);
        var refusedAtStart = rollout.Refused.ToList();
        if (!wait)
        {
            context.Output.WriteLine($"Follow it with: certfleet rollout show {rollout.Id}");
            return ExitCodes.Success;
        }

        var progress = new RolloutProgress(context.Output, detail, context.OutputIsTerminal);
        rollout = await FollowAsync(context, admin, rollout, progress, cancellation);
        progress.Finish();

        // certificates the signing policy refused while the rollout ran (a CSR that asked for more than the certificate had)
        WriteRefused(context.Output, rollout.Refused.Except(refusedAtStart).ToList(), detail);
        switch (rollout.State)
        {
            case RolloutState.Completed:
                context.Output.WriteLine($"Rollout {rollout.Id} completed: every step succeeded.");
                return ExitCodes.Success;
            case RolloutState.Halted when PausedAt(rollout) is { } pause:
                // --stop-after: the halt the operator asked for, to look at the fleet before the next phase; not a failure
                var phase = rollout.Request?.RekeyCa?.StopAfter is { Length: > 0 } stopAfter ? $" after the {Shown(stopAfter)} phase" : "";
                context.Output.WriteLine($"Rollout {rollout.Id} paused{phase} at step {pause.Sequence}, as --stop-after asked.");
                context.Output.WriteLine($"Check the fleet, then 'certfleet rollout resume {rollout.Id}' goes on with the next phase.");
                return ExitCodes.Success;
            case RolloutState.Halted:
                var failed = rollout.Steps.FirstOrDefault(s => s.State == StepState.Failed);
                var where = failed is null ? "" : $" at {Shown(failed.Kind.ToText())} {Shown(failed.Unit)} on {Shown(failed.Node)}".Replace("  ", " ", StringComparison.Ordinal);
                context.Error.WriteLine($"certfleet: rollout {rollout.Id} halted{where}: {Shown(rollout.HaltReason)}");
                RolloutOutput.WriteProbeOutput(context.Error, rollout.Steps.Where(s => s.State == StepState.Failed));
                context.Error.WriteLine($"Fix the cause, then 'certfleet rollout resume {rollout.Id}' (or abort it, or 'certfleet rollback --rollout {rollout.Id}').");
                if (failed is not null)
                {
                    context.Error.WriteLine($"To finish the rest without {Shown(failed.Node)}: 'certfleet rollout resume {rollout.Id} --skip-node {Shown(failed.Node)}'.");
                }
                return ExitCodes.ProblemsFound;
            default:
                context.Error.WriteLine($"certfleet: rollout {rollout.Id} ended {rollout.State.ToText()}");
                return ExitCodes.ProblemsFound;
        }
    }

    /// <summary>
    /// Follows the rollout to its end. A coordinator that goes away meanwhile (restarted, or the active one of a group
    /// killed or frozen: the channel's keepalive finds that within 20 s) does not end the wait: the rollout lives in
    /// the coordinator's state, so the watch is opened again (through the group: a standby serves it, and the one that
    /// takes over goes on with the rollout) until a coordinator answers, for up to <see cref="ReconnectWithin"/>.
    /// </summary>
    private static async Task<Rollout> FollowAsync(CliContext context, AdminService.AdminServiceClient admin, Rollout rollout,
        RolloutProgress progress, CancellationToken cancellation)
    {
        Stopwatch? lost = null;
        while (true)
        {
            try
            {
                using var watch = admin.WatchRollout(new RolloutId { Id = rollout.Id }, cancellationToken: cancellation);
                await foreach (var update in watch.ResponseStream.ReadAllAsync(cancellation))
                {
                    rollout = update;
                    progress.Update(update);
                    lost = null;
                }
                if (rollout.State != RolloutState.Running)
                {
                    return rollout;
                }
                // the stream ended with the rollout still running: the coordinator is stopping
                if (lost is not null && lost.Elapsed >= ReconnectWithin)
                {
                    throw new RpcException(new Status(StatusCode.Unavailable, $"the coordinator kept ending the watch of rollout {rollout.Id}, which still runs"));
                }
            }
            catch (RpcException e) when (ConnectionLoss.Is(e) && !cancellation.IsCancellationRequested
                && (lost is null || lost.Elapsed < ReconnectWithin))
            {
            }
            if (lost is null)
            {
                lost = Stopwatch.StartNew();
                progress.Finish();
                context.Error.WriteLine($"certfleet: lost the coordinator while following rollout {rollout.Id}; following it again "
                    + $"as soon as a coordinator answers (for up to {ReconnectWithin.TotalSeconds:0} s)");
            }
            await Task.Delay(ReconnectEvery, cancellation);
        }
    }

    /// <summary>The pause step of a re-key's --stop-after, when reaching it (and no failed step) is why the rollout halted.</summary>
    private static RolloutStep? PausedAt(Rollout rollout) =>
        rollout.Steps.Any(s => s.State == StepState.Failed && s.Kind != StepKind.Pause)
            ? null
            : rollout.Steps.Where(s => s.Kind == StepKind.Pause && s.State is not (StepState.Pending or StepState.Skipped)).MaxBy(s => s.Sequence);

    /// <summary>Every refusal, or for a large rollout the refusals grouped by reason.</summary>
    private static void WriteRefused(TextWriter output, IReadOnlyCollection<RefusedCertificate> refused, bool detail)
    {
        if (detail || refused.Count <= PlanSummary.DetailShownUpTo)
        {
            RolloutOutput.WriteRefused(output, refused);
        }
        else
        {
            PlanSummary.WriteRefusals(output, refused);
        }
    }
}
