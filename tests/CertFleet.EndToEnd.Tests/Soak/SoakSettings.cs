using System.Globalization;

namespace CertFleet.EndToEnd.Tests.Soak;

/// <summary>
/// How much the soak does: 20 rollouts by default, as the reliability issue asks (4 min 41 s on this 2-core
/// machine, fleet start included). CERTFLEET_SOAK_ROLLOUTS changes the count; CERTFLEET_SOAK_SEED replays the
/// kills of a failed run (the seed is in every failure message). The whole test stops with a failure at
/// <see cref="WallClock"/> after the fleet's start: 2 minutes plus 45 s a rollout. The cap only guards against a hang: a rollout takes 12-15 s
/// on a quiet machine and 25-35 s beside the other test assemblies, so a cap near the quiet figure failed healthy runs.
/// </summary>
/// <param name="CountVariable">the variable that set <paramref name="Rollouts"/>, named in failures to replay them</param>
internal sealed record SoakSettings(int Rollouts, int Seed, string CountVariable = SoakSettings.RolloutsVariable)
{
    public const string RolloutsVariable = "CERTFLEET_SOAK_ROLLOUTS";

    /// <summary>The coordinator-group soak's count: its rollouts cost more (failovers), so it has its own, smaller default.</summary>
    public const string GroupRolloutsVariable = "CERTFLEET_SOAK_GROUP_ROLLOUTS";
    public const int DefaultGroupRollouts = 6;
    public const string SeedVariable = "CERTFLEET_SOAK_SEED";
    public const int DefaultRollouts = 20;

    /// <summary>The hard cap for the rollouts and the end checks (the fleet's start is not counted).</summary>
    public TimeSpan WallClock => TimeSpan.FromMinutes(2) + TimeSpan.FromSeconds(45 * Rollouts);

    /// <summary>Kept back from the cap for the checks after the last rollout.</summary>
    public static readonly TimeSpan EndChecks = TimeSpan.FromSeconds(45);

    public static SoakSettings FromEnvironment() => new(
        Read(RolloutsVariable, DefaultRollouts, minimum: 1),
        Read(SeedVariable, Random.Shared.Next(), minimum: 0));

    public static SoakSettings ForGroupFromEnvironment() => new(
        Read(GroupRolloutsVariable, DefaultGroupRollouts, minimum: 1),
        Read(SeedVariable, Random.Shared.Next(), minimum: 0),
        GroupRolloutsVariable);

    private static int Read(string variable, int fallback, int minimum)
    {
        var text = Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= minimum
            ? value
            : throw new ArgumentException($"{variable}={text}: give a whole number of at least {minimum}, or unset it for the default");
    }
}
