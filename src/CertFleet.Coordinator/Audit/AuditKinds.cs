namespace CertFleet.Coordinator.Audit;

/// <summary>
/// The kinds of audit records, as the admin API and `certfleet audit` spell them. Text, not a proto enum as rollout
/// states are: the trail is an open set that grows with every feature and is kept for years, so a CLI of any release
/// must show a kind it has never heard of exactly as it was written, and nothing decides on it.
/// </summary>
internal static class AuditKinds
{
    public const string Issued = "issued";
    public const string Refused = "refused";
    public const string Enrolled = "enrolled";
    public const string EnrollmentRefused = "enrollment-refused";
    public const string TokenCreated = "token-created";
    public const string Installed = "installed";
    public const string InstallFailed = "install-failed";
    public const string Restarted = "restarted";
    public const string RestartFailed = "restart-failed";
    public const string RolledBack = "rolled-back";
    public const string RollbackFailed = "rollback-failed";
    public const string CaRenewed = "ca-renewed";
    public const string RolloutStarted = "rollout-started";
    public const string RolloutCompleted = "rollout-completed";
    public const string RolloutHalted = "rollout-halted";
    public const string RolloutResumed = "rollout-resumed";
    public const string RolloutAborted = "rollout-aborted";

    /// <summary>A node's remaining steps that an operator skipped when resuming (--skip-node).</summary>
    public const string StepSkipped = "step-skipped";
    /// <summary>Automatic renewal did not start a rollout for a certificate an automatic rollout had just renewed (reported again).</summary>
    public const string AutoRenewalHeld = "auto-renewal-held";
    public const string RolloutRolledBack = "rollout-rolled-back";
    public const string NodeRemoved = "node-removed";

    /// <summary>A CA re-key: the new CAs made (their keys in the state folder), the coordinator signing with them, the old ones forgotten.</summary>
    public const string CaRekeyStarted = "ca-rekey-started";
    public const string CaSigningSwitched = "ca-signing-switched";
    public const string CaRetired = "ca-retired";

    /// <summary>A new CA's private key sent to a master that proved it holds the old one (the only time a key crosses the wire).</summary>
    public const string CaKeySent = "ca-key-sent";
}
