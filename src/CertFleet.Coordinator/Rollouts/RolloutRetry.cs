using CertFleet.Protocol.V1;

namespace CertFleet.Coordinator.Rollouts;

/// <summary>
/// What resuming a halted rollout sends again: every failed step not yet retried, as a new step (a new id, since
/// the agent's journal answers the old one with its old result), and first a new install on every node that was
/// rolled back, so the retried restarts run on the renewed files. On a node the operator skips (--skip-node) nothing
/// is sent again: its pending steps and the copies that would have been retried are "skipped", so the rest goes on.
/// </summary>
internal static class RolloutRetry
{
    /// <summary>The steps to save (new ones, and existing ones moved to a later batch or skipped).</summary>
    public static IReadOnlyList<RolloutStep> Plan(Rollout rollout, IReadOnlySet<string> skipNodes)
    {
        var steps = rollout.Steps.ToList();
        var retried = steps.Where(s => s.State is StepState.Failed or StepState.RolledBack && s.Kind != StepKind.Rollback)
            .Where(s => !steps.Any(later => later.Sequence > s.Sequence && later.Kind == s.Kind && later.Node == s.Node && later.Unit == s.Unit))
            .ToList();
        var changed = new List<RolloutStep>();
        var next = steps.Max(s => s.Sequence);
        foreach (var step in steps.Where(s => s.State == StepState.Pending && skipNodes.Contains(s.Node)))
        {
            step.State = StepState.Skipped;
            step.Message = $"{SkippedBecause(step.Node)}; this step never ran";
            changed.Add(step);
        }
        // a copy, not the failed step itself: the record of what failed stays as it was
        foreach (var step in retried.Where(s => skipNodes.Contains(s.Node)))
        {
            var skipped = Copy(step, ++next, step.Batch);
            skipped.State = StepState.Skipped;
            skipped.Message = $"{SkippedBecause(step.Node)}; step {step.Sequence} ({step.State.ToText()}) is not sent again";
            changed.Add(skipped);
        }
        retried.RemoveAll(s => skipNodes.Contains(s.Node));

        var installs = retried.Where(s => s.Kind == StepKind.Install).ToList();
        var others = retried.Where(s => s.Kind != StepKind.Install).ToList();
        if (installs.Count > 0 && others.Count > 0)
        {
            // make room: the reinstalls get their own batch just before the first retried restart
            var first = others.Min(s => s.Batch);
            foreach (var step in steps.Where(s => s.Batch >= first))
            {
                step.Batch++;
                changed.Add(step);
            }
            foreach (var install in installs)
            {
                changed.Add(Copy(install, ++next, first));
            }
        }
        else
        {
            changed.AddRange(installs.Select(install => Copy(install, ++next, install.Batch)));
        }
        changed.AddRange(others.Select(step => Copy(step, ++next, step.Batch)));
        return changed.DistinctBy(s => s.Sequence).ToList();
    }

    public static string SkippedBecause(string node) => $"skipped: the operator resumed the rollout with --skip-node {node}";

    private static RolloutStep Copy(RolloutStep step, int sequence, int batch) => new()
    {
        Sequence = sequence, Batch = batch, Kind = step.Kind, Node = step.Node, Unit = step.Unit, State = StepState.Pending,
    };
}
