using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace CertFleet.EndToEnd.Tests.Soak;

/// <summary>
/// One soak rollout: `certfleet renew --all`, then `rollout show` polled until it completes, with a SIGKILL of the
/// coordinator or of one agent at a random moment and a restart of that process, and `rollout resume` whenever the
/// rollout halts (bounded). Everything it does and sees goes into the story.
/// </summary>
internal sealed partial class KilledRollout(LoopbackFleet fleet, Random random, SoakStory story)
{
    private const int MaxResumes = 4;
    private static readonly TimeSpan PollEvery = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan AgentsBack = TimeSpan.FromSeconds(90);

    /// <summary>The installs of the first batch are over within about a second of the start on the loopback fleet.</summary>
    private static readonly TimeSpan InstallPhase = TimeSpan.FromSeconds(1.2);

    /// <summary>About what one `certfleet rollout show` costs (a dotnet process start).</summary>
    private static readonly TimeSpan PollCost = TimeSpan.FromSeconds(1.5);

    private static readonly string[] Roles = [LoopbackFleet.CoordinatorRole, .. LoopbackFleet.Masters, .. LoopbackFleet.Workers];

    /// <summary>In a coordinator group, victims named by what they are at the moment of the kill.</summary>
    private const string ActiveCoordinator = "the active coordinator";
    private const string StandbyCoordinator = "the standby coordinator";

    /// <summary>A standby takes the lease within a quarter lease of its expiry; the rest is slack for a busy machine.</summary>
    private static readonly TimeSpan TakeOverWithin = LoopbackFleet.LeaseDuration + TimeSpan.FromSeconds(30);

    /// <summary>Runs rollout number <paramref name="number"/> to completion; returns how long it took from its start.</summary>
    public async Task<TimeSpan> RunAsync(int number, TimeSpan killWithin)
    {
        await fleet.WaitUntilEveryAgentReportsAsync(AgentsBack);
        var start = fleet.Cli("renew", "--all");
        Assert.True(start.ExitCode == 0, story.Failure($"rollout {number}: `certfleet renew --all` failed: {start.Combined}"));
        var id = StartedId().Match(start.StandardOutput) is { Success: true } m ? m.Groups[1].Value
            : throw new InvalidOperationException(story.Failure($"rollout {number}: no rollout id in: {start.StandardOutput}"));
        // alone, the coordinator a third of the time, else one of the five agents; in a group see GroupVictim
        var victim = fleet.IsGroup ? GroupVictim()
            : random.Next(3) == 0 ? LoopbackFleet.CoordinatorRole : Roles[1 + random.Next(Roles.Length - 1)];
        // half the kills in the first second, where the installs (CSRs, signing, backups, file writes) happen
        var killAt = (random.Next(2) == 0 ? InstallPhase : killWithin) * random.NextDouble();
        story.Add($"rollout {number} {id} started; SIGKILL of {victim} planned at {killAt.TotalSeconds:0.0} s");

        var clock = Stopwatch.StartNew();
        var killed = false;
        var resumes = 0;
        JsonElement? last = null;
        while (true)
        {
            story.CheckTime(SoakSettings.EndChecks, $"rollout {number} {id} ran ({Progress(last)})");
            if (!killed && killAt - clock.Elapsed < PollCost)
            {
                // a `rollout show` now would overshoot the moment: wait for it instead
                await Task.Delay(Max(TimeSpan.Zero, killAt - clock.Elapsed));
                await KillAndRestartAsync(number, victim, last, clock.Elapsed);
                killed = true;
                continue;
            }
            var shown = fleet.Cli("rollout", "show", id, "-o", "json");
            if (shown.ExitCode != 0)
            {
                // the coordinator may be restarting; any other trouble shows as the time cap with the story
                await Task.Delay(PollEvery);
                continue;
            }
            var rollout = JsonDocument.Parse(shown.StandardOutput).RootElement.Clone();
            last = rollout;
            switch (rollout.GetProperty("state").GetString())
            {
                case "completed" when killed:
                    story.Add($"rollout {number} completed in {clock.Elapsed.TotalSeconds:0.0} s after {resumes} resume(s)");
                    return clock.Elapsed;
                case "completed":
                    // done before the planned moment: the kill still happens, between this rollout and the next
                    killAt = clock.Elapsed;
                    continue;
                case "halted":
                    resumes++;
                    story.Add($"rollout {number} halted at {FailedSteps(rollout)}: {OneLine(rollout.GetProperty("haltReason").GetString())}");
                    Assert.True(resumes <= MaxResumes, story.Failure($"rollout {number} {id} still halts after {MaxResumes} resumes"));
                    await fleet.WaitUntilEveryAgentReportsAsync(AgentsBack);
                    var resume = fleet.Cli("rollout", "resume", id);
                    Assert.True(resume.ExitCode == 0, story.Failure($"rollout {number}: `certfleet rollout resume {id}` failed: {resume.Combined}"));
                    story.Add($"rollout {number} resumed");
                    continue;
                case "aborted":
                    Assert.Fail(story.Failure($"rollout {number} {id} was aborted, which nobody asked for"));
                    break;
            }
            await Task.Delay(killed ? PollEvery : Min(PollEvery, Max(TimeSpan.Zero, killAt - clock.Elapsed - PollCost)));
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>The active coordinator a third of the time, the standby a sixth, else one of the five agents.</summary>
    private string GroupVictim() => random.Next(6) switch
    {
        0 or 1 => ActiveCoordinator,
        2 => StandbyCoordinator,
        _ => Roles[1 + random.Next(Roles.Length - 1)],
    };

    private async Task KillAndRestartAsync(int number, string victim, JsonElement? last, TimeSpan at)
    {
        var active = victim is ActiveCoordinator or StandbyCoordinator ? await fleet.WaitForActiveAsync(TakeOverWithin) : null;
        var role = victim switch
        {
            ActiveCoordinator => active!,
            StandbyCoordinator => LoopbackFleet.CoordinatorRoles.Single(r => r != active),
            _ => victim,
        };
        story.Add($"rollout {number}: SIGKILL {(role == victim ? victim : $"{victim}, {role},")} at {at.TotalSeconds:0.0} s, {Progress(last)}");
        fleet.Kill(role);
        if (victim == ActiveCoordinator)
        {
            // restarted at once it would take its own lease back; after the take-over it rejoins as the standby
            var clock = Stopwatch.StartNew();
            var next = await fleet.WaitForActiveAsync(TakeOverWithin, not: role);
            story.Add($"rollout {number}: {next} active {clock.Elapsed.TotalSeconds:0.0} s after the kill");
        }
        await fleet.RestartAsync(role);
        if (fleet.IsGroup && LoopbackFleet.CoordinatorRoles.Contains(role))
        {
            await LoopbackFleet.WaitUntil(() => fleet.SaysActive(role) == false, TakeOverWithin, $"the restarted {role} to stand by");
        }
        story.Add($"rollout {number}: {role} restarted");
    }

    /// <summary>"3/17 steps done; running: [4] restart etcd on master-1" from the last `rollout show`.</summary>
    private static string Progress(JsonElement? rollout)
    {
        if (rollout is not { } r)
        {
            return "before the first `rollout show`";
        }
        var steps = r.GetProperty("steps").EnumerateArray().ToList();
        var done = steps.Count(s => s.GetProperty("state").GetString() is "succeeded" or "skipped");
        var running = steps.Where(s => s.GetProperty("state").GetString() == "running").Select(Step).ToList();
        return $"{done}/{steps.Count} steps done, last seen running: {(running.Count == 0 ? "none" : string.Join(", ", running))}";
    }

    private static string FailedSteps(JsonElement rollout)
    {
        var failed = rollout.GetProperty("steps").EnumerateArray()
            .Where(s => s.GetProperty("state").GetString() is "failed").Select(Step).ToList();
        return failed.Count == 0 ? "no failed step" : string.Join(", ", failed);
    }

    private static string Step(JsonElement s) =>
        $"[{s.GetProperty("sequence").GetInt32()}] {s.GetProperty("kind").GetString()} {s.GetProperty("unit").GetString()} on {s.GetProperty("node").GetString()}"
            .Replace("  ", " ", StringComparison.Ordinal);

    private static string OneLine(string? text) => (text ?? "").ReplaceLineEndings(" | ");

    [GeneratedRegex(@"Started rollout (\S+) \(")]
    private static partial Regex StartedId();
}
