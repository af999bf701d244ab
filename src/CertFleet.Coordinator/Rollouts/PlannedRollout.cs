using CertFleet.Protocol.V1;

namespace CertFleet.Coordinator.Rollouts;

/// <summary>A certificate a rollout renews on a node (or, for a CA copy, replaces), by its SHA-256 fingerprint.</summary>
internal sealed record RolloutTarget(string Node, string Fingerprint);

/// <summary>The plan shown to the operator and what the runner needs besides it: which certificate on which node.</summary>
internal sealed record PlannedRollout(RolloutRequest Request, RolloutPlan Plan, IReadOnlyList<RolloutTarget> Targets)
{
    /// <summary>Why this plan must not start (a re-key with a node it cannot reach); shown as warnings by `plan`.</summary>
    public IReadOnlyList<string> Blockers { get; init; } = [];

    /// <summary>A re-key's new CAs, made for this plan (owned by whoever starts the rollout; disposed otherwise).</summary>
    public IReadOnlyList<(Pki.Signing.CertificateAuthority Old, Pki.Rekey.NewAuthority New)> Successors { get; init; } = [];

    public bool IsEmpty => Targets.Count == 0 && !Plan.Steps.Any(s => s.Kind is StepKind.RenewCa or StepKind.NewCa);
}
