using CertFleet.Cli.Output;
using CertFleet.Protocol.V1;
using Grpc.Core;
using static CertFleet.Cli.Output.TerminalText;

namespace CertFleet.Cli.Commands;

/// <summary>`certfleet renew` without --local: starts a rollout at the coordinator and, with --wait, follows it to the end.</summary>
internal static class FleetRenewal
{
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
        using (var watch = admin.WatchRollout(new RolloutId { Id = rollout.Id }, cancellationToken: cancellation))
        {
            await foreach (var update in watch.ResponseStream.ReadAllAsync(cancellation))
            {
                rollout = update;
                progress.Update(update);
            }
        }
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
