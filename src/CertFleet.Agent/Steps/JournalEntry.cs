using CertFleet.Protocol.V1;

namespace CertFleet.Agent.Steps;

/// <summary>One finished step as the journal keeps it: enough to answer it again and to roll an install back.</summary>
internal sealed record JournalEntry
{
    public required string StepId { get; init; }

    public string RolloutId { get; init; } = "";

    /// <summary>install, restart or rollback.</summary>
    public required string Kind { get; init; }

    public required bool Ok { get; init; }

    public string Message { get; init; } = "";

    public string? BackupDirectory { get; init; }

    public IReadOnlyList<string> ChangedFiles { get; init; } = [];

    public IReadOnlyList<string> Units { get; init; } = [];

    public string ProbeOutput { get; init; } = "";

    public DateTimeOffset FinishedAt { get; init; }

    public StepResult ToResult()
    {
        var result = new StepResult
        {
            StepId = StepId,
            Ok = Ok,
            Message = Message,
            BackupDirectory = BackupDirectory ?? "",
            ProbeOutput = ProbeOutput,
        };
        result.ChangedFiles.Add(ChangedFiles);
        result.UnitsToRestart.Add(Units);
        return result;
    }
}
