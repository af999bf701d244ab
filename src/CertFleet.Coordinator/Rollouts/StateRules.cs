using CertFleet.Protocol.V1;

namespace CertFleet.Coordinator.Rollouts;

/// <summary>What the states of rollouts and steps mean to the runner (their words: <see cref="RolloutText"/>).</summary>
internal static class StateRules
{
    /// <summary>Neither pending nor running: the runner sends it no more.</summary>
    public static bool IsFinished(this StepState state) => state is not (StepState.Pending or StepState.Running);

    /// <summary>Running or halted: it still owns the fleet, so no other rollout may start.</summary>
    public static bool IsUnfinished(this RolloutState state) => state is RolloutState.Running or RolloutState.Halted;
}
