using System.Globalization;

namespace CertFleet.EndToEnd.Tests.Soak;

/// <summary>
/// How much the soak does. A rollout with its kill and recovery takes 10 to 20 s on a 2-core machine, so 20 of
/// them (about 6 minutes, plus 30 s to start the fleet) do not fit the suite's budget: the count is
/// CERTFLEET_SOAK_ROLLOUTS (default 8, about 3 minutes); CERTFLEET_SOAK_SEED replays the kills of a failed run
/// (the seed is in every failure message). The whole test stops with a failure at <see cref="WallClock"/>.
/// </summary>
internal sealed record SoakSettings(int Rollouts, int Seed)
{
    public const string RolloutsVariable = "CERTFLEET_SOAK_ROLLOUTS";
    public const string SeedVariable = "CERTFLEET_SOAK_SEED";
    public const int DefaultRollouts = 8;

    /// <summary>The hard cap for the whole test, fleet start and end checks included.</summary>
    public static readonly TimeSpan WallClock = TimeSpan.FromMinutes(6);

    /// <summary>Kept back from the cap for the checks after the last rollout.</summary>
    public static readonly TimeSpan EndChecks = TimeSpan.FromSeconds(45);

    public static SoakSettings FromEnvironment() => new(
        Read(RolloutsVariable, DefaultRollouts, minimum: 1),
        Read(SeedVariable, Random.Shared.Next(), minimum: 0));

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
