namespace CertFleet.Agent.Steps;

/// <summary>The install in progress as install-in-progress.json holds it: enough to finish or undo it after a crash.</summary>
internal sealed record PendingInstall
{
    public required string StepId { get; init; }

    public string RolloutId { get; init; } = "";

    public required InstallPhase Phase { get; init; }

    public string? BackupDirectory { get; init; }

    /// <summary>Node paths of the files the install changes (each saved in the backup).</summary>
    public IReadOnlyList<string> ChangedFiles { get; init; } = [];

    /// <summary>At <see cref="InstallPhase.Verified"/>: the step's answer, to commit as it is.</summary>
    public JournalEntry? Result { get; init; }

    public DateTimeOffset StartedAt { get; init; }
}
