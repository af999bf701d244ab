using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using CertFleet.Testing;

namespace CertFleet.EndToEnd.Tests.Rekey;

/// <summary>
/// Follows a rollout with `certfleet rollout show ID -o json` until it completes, resuming it when it halts (as an
/// operator would after the kills the tests make, bounded as the soak's KilledRollout is). What it sees and does goes
/// into <see cref="Story"/>, which every failure message carries.
/// </summary>
internal sealed partial class RolloutWatch(LoopbackFleet fleet)
{
    private static readonly TimeSpan PollEvery = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan AgentsBack = TimeSpan.FromSeconds(90);
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<string> _story = [];

    public string Story => string.Join("\n", _story);

    public void Add(string line) => _story.Add($"{_clock.Elapsed.TotalSeconds,6:0.0}s {line}");

    /// <summary>The id in `certfleet renew`'s "Started rollout ID (N steps)."</summary>
    public static string StartedId(ProcessResult start) =>
        StartedLine().Match(start.StandardOutput) is { Success: true } m ? m.Groups[1].Value
            : throw new InvalidOperationException($"no rollout id in `certfleet renew`'s output: {start.Combined}");

    /// <summary>
    /// Polls until the rollout completes and returns its last `rollout show`; <paramref name="seen"/> runs on each
    /// answer of a rollout still under way. Fails on abort or roll-back, after <paramref name="maxResumes"/> resumes,
    /// and at <paramref name="limit"/>.
    /// </summary>
    public async Task<JsonElement> UntilCompletedAsync(string id, TimeSpan limit, int maxResumes, Func<JsonElement, Task>? seen = null)
    {
        var clock = Stopwatch.StartNew();
        var resumes = 0;
        JsonElement? last = null;
        while (true)
        {
            Assert.True(clock.Elapsed < limit, $"rollout {id} did not complete within {limit.TotalMinutes:0} min ({Progress(last)})\n{Story}");
            var shown = fleet.Cli("rollout", "show", id, "-o", "json");
            if (shown.ExitCode != 0)
            {
                await Task.Delay(PollEvery); // the coordinator may be restarting
                continue;
            }
            var rollout = JsonDocument.Parse(shown.StandardOutput).RootElement.Clone();
            last = rollout;
            switch (rollout.GetProperty("state").GetString())
            {
                case "completed":
                    Add($"rollout {id} completed after {resumes} resume(s): {Progress(rollout)}");
                    return rollout;
                case "halted":
                    resumes++;
                    Add($"rollout {id} halted ({Progress(rollout)}): {rollout.GetProperty("haltReason").GetString()?.ReplaceLineEndings(" | ")}");
                    Assert.True(resumes <= maxResumes, $"rollout {id} halted, and {maxResumes} resume(s) were allowed\n{Story}");
                    await fleet.WaitUntilEveryAgentReportsAsync(AgentsBack);
                    var resume = fleet.Cli("rollout", "resume", id);
                    Assert.True(resume.ExitCode == 0, $"`certfleet rollout resume {id}` failed: {resume.Combined}\n{Story}");
                    Add($"rollout {id} resumed");
                    continue;
                case "running":
                    if (seen is not null)
                    {
                        await seen(rollout);
                    }
                    break;
                case var other:
                    Assert.Fail($"rollout {id} ended {other}, which nobody asked for ({Progress(rollout)})\n{Story}");
                    break;
            }
            await Task.Delay(PollEvery);
        }
    }

    public static IEnumerable<JsonElement> Steps(JsonElement rollout) => rollout.GetProperty("steps").EnumerateArray();

    public static bool Succeeded(JsonElement rollout, string kind) =>
        Steps(rollout).Any(s => s.GetProperty("kind").GetString() == kind && s.GetProperty("state").GetString() == "succeeded");

    /// <summary>"12/40 steps done; running: [13] restart etcd on master-2".</summary>
    public static string Progress(JsonElement? rollout)
    {
        if (rollout is not { } r)
        {
            return "before the first `rollout show`";
        }
        var steps = Steps(r).ToList();
        var done = steps.Count(s => s.GetProperty("state").GetString() is "succeeded" or "skipped");
        var running = steps.Where(s => s.GetProperty("state").GetString() == "running").Select(Step).ToList();
        return $"{done}/{steps.Count} steps done; running: {(running.Count == 0 ? "none" : string.Join(", ", running))}";
    }

    public static string Step(JsonElement s) =>
        $"[{s.GetProperty("sequence").GetInt32()}] {s.GetProperty("kind").GetString()} {s.GetProperty("unit").GetString()} on {s.GetProperty("node").GetString()}"
            .Replace("  ", " ", StringComparison.Ordinal);

    [GeneratedRegex(@"Started rollout (\S+) \(")]
    private static partial Regex StartedLine();
}
