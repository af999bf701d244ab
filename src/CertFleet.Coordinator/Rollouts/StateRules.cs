using CertFleet.Protocol.V1;

namespace CertFleet.Coordinator.Rollouts;

/// <summary>What the states of rollouts and steps mean to the runner (their words: <see cref="RolloutText"/>).</summary>
internal static class StateRules
{
    /// <summary>Neither pending nor running: the runner sends it no more.</summary>
    public static bool IsFinished(this StepState state) => state is not (StepState.Pending or StepState.Running);

    /// <summary>Running or halted: it still owns the fleet, so no other rollout may start.</summary>
    public static bool IsUnfinished(this RolloutState state) => state is RolloutState.Running or RolloutState.Halted;

    /// <summary>A step that writes files on a node, with a backup a rollback restores: an install, or a re-key's trust, switch-signing or retire.</summary>
    public static bool WritesFiles(this StepKind kind) => kind is StepKind.Install or StepKind.Trust or StepKind.SwitchSigning or StepKind.Retire;

    /// <summary>A step sent to a node's agent (the others run at the coordinator).</summary>
    public static bool IsNodeStep(this StepKind kind) => kind.WritesFiles() || kind is StepKind.Restart or StepKind.Gate;
}
