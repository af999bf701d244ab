using CertFleet.Agent.Gates;
using CertFleet.Agent.Steps;

namespace CertFleet.Agent.Handlers;

/// <summary>
/// The services a coordinator may have restarted on this node: those that use a certificate an install of the same
/// rollout put in place, as the agent's own scan saw it when it installed (the journal keeps that list). A coordinator
/// names the unit, the node decides: a restart of anything else, or of anything that is not a service, is refused.
/// </summary>
internal sealed record RestartScope(string RolloutId, IReadOnlySet<string> Units)
{
    /// <summary>Every journal entry it keeps, not only the newest ones.</summary>
    private const int WholeJournal = int.MaxValue;

    /// <summary>What the installs of <paramref name="rolloutId"/> on this node were used by.</summary>
    public static RestartScope OfRollout(StepJournal journal, string rolloutId) =>
        new(rolloutId, rolloutId.Length == 0
            ? new HashSet<string>()
            : journal.Recent(WholeJournal)
                .Where(e => e is { Kind: "install", Ok: true } && e.RolloutId == rolloutId)
                .SelectMany(e => e.Units)
                .ToHashSet(StringComparer.Ordinal));

    /// <summary>What one install was used by: a rollback restarts those services on the files it puts back, nothing else.</summary>
    public static RestartScope OfInstall(JournalEntry install) =>
        new(install.RolloutId, install.Units.ToHashSet(StringComparer.Ordinal));

    /// <summary>Why <paramref name="unit"/> may not be restarted, or null when it may.</summary>
    public string? RefusalOf(string unit) =>
        UnitNames.RestartRefusal(unit)
        ?? (Units.Contains(unit) ? null : $"unit {unit} uses no certificate installed by rollout {Name} on this node; refused");

    private string Name => RolloutId.Length == 0 ? "(none named)" : RolloutId;
}
