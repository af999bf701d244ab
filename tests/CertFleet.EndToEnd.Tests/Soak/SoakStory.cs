using System.Diagnostics;

namespace CertFleet.EndToEnd.Tests.Soak;

/// <summary>
/// What the soak did so far (rollouts, kills, halts, resumes), printed with every failure together with the seed,
/// so a failure says which kill in which rollout at which step led to it, and can be replayed.
/// </summary>
internal sealed class SoakStory(SoakSettings settings)
{
    private readonly List<string> _lines = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public TimeSpan Elapsed => _clock.Elapsed;

    public void Add(string line)
    {
        // UTC too: backup folders are named by the UTC second they were taken in
        var stamped = $"{_clock.Elapsed.TotalSeconds,6:0.0}s {TimeProvider.System.GetUtcNow():HH:mm:ss.f}Z {line}";
        _lines.Add(stamped);
        Console.WriteLine($"soak: {stamped}");
    }

    /// <summary>A failure message: what failed, then the seed to replay it and everything that led to it.</summary>
    public string Failure(string what) =>
        $"{what}\n--- soak seed {settings.Seed} ({SoakSettings.SeedVariable}={settings.Seed} {settings.CountVariable}={settings.Rollouts} replays it); what happened:\n"
        + string.Join("\n", _lines);

    private TimeSpan _fleetStartedAfter;

    /// <summary>
    /// The fleet is up: the cap counts from here. A fleet's start took 30 s on a quiet machine and two minutes beside
    /// the other test assemblies, and counted in the cap it failed a healthy group soak before its first rollout ended.
    /// </summary>
    public void FleetStarted()
    {
        _fleetStartedAfter = _clock.Elapsed;
        Add("fleet started; the soak's cap counts from here");
    }

    /// <summary>Fails when less than <paramref name="reserve"/> is left of the wall-clock cap.</summary>
    public void CheckTime(TimeSpan reserve, string doing)
    {
        if (_clock.Elapsed - _fleetStartedAfter > settings.WallClock - reserve)
        {
            Assert.Fail(Failure($"the soak hit its {settings.WallClock.TotalMinutes:0} min cap while {doing}; "
                + $"lower {settings.CountVariable} (now {settings.Rollouts}) if the machine is slow"));
        }
    }
}
