namespace CertFleet.Coordinator.Rollouts;

/// <summary>The kinds and states of rollout steps and rollouts, as the admin API spells them.</summary>
internal static class StepKinds
{
    public const string RenewCa = "renew-ca";
    public const string Install = "install";
    public const string Restart = "restart";
    public const string Rollback = "rollback";
}

internal static class StepStates
{
    public const string Pending = "pending";
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string RolledBack = "rolled-back";
    public const string Skipped = "skipped";

    public static bool IsFinished(string state) => state is not (Pending or Running);
}

internal static class RolloutStates
{
    public const string Running = "running";
    public const string Halted = "halted";
    public const string Completed = "completed";
    public const string Aborted = "aborted";

    /// <summary>The operator put back, with `certfleet rollback`, every file the rollout installed.</summary>
    public const string RolledBack = "rolled-back";

    /// <summary>Running or halted: it still owns the fleet, so no other rollout may start.</summary>
    public static bool IsUnfinished(string state) => state is Running or Halted;
}
