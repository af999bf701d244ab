using System.Text.Json;

namespace CertFleet.EndToEnd.Tests.Rekey;

/// <summary>
/// The coordinator and an agent SIGKILLed (and restarted) in each phase of a re-key, each as soon as a `rollout show`
/// of the running rollout has a step of the phase's kind succeeded: after a "trust", the coordinator and then master-3's
/// agent (its etcd restarts come last in the phase); after an "install" (the issue phase's re-issue), a worker's agent
/// and then the coordinator; after a "retire", the coordinator and then master-3's agent. One kill per `rollout show`,
/// in that order.
/// </summary>
internal sealed class PhaseKills(LoopbackFleet fleet, RolloutWatch watch)
{
    private readonly Queue<(string Kind, Func<JsonElement, string> Victim)> _plan = new(
    [
        ("trust", _ => LoopbackFleet.CoordinatorRole),
        ("trust", _ => LoopbackFleet.Masters[^1]),
        ("install", Worker),
        ("install", _ => LoopbackFleet.CoordinatorRole),
        ("retire", _ => LoopbackFleet.CoordinatorRole),
        ("retire", _ => LoopbackFleet.Masters[^1]),
    ]);

    /// <summary>The step kinds whose kill has not happened yet.</summary>
    public IReadOnlyList<string> Remaining => [.. _plan.Select(p => p.Kind)];

    public async Task OnShowAsync(JsonElement rollout)
    {
        if (!_plan.TryPeek(out var next) || !RolloutWatch.Succeeded(rollout, next.Kind))
        {
            return;
        }
        _plan.Dequeue();
        var victim = next.Victim(rollout);
        watch.Add($"a {next.Kind} step has succeeded ({RolloutWatch.Progress(rollout)}): SIGKILL {victim}");
        fleet.Kill(victim);
        await fleet.RestartAsync(victim);
        watch.Add($"{victim} restarted");
    }

    /// <summary>A worker with an install still to come if there is one (the kill then lands in its re-issue), else worker-1.</summary>
    private static string Worker(JsonElement rollout) =>
        RolloutWatch.Steps(rollout)
            .Where(s => s.GetProperty("kind").GetString() == "install" && s.GetProperty("state").GetString() is "pending" or "running")
            .Select(s => s.GetProperty("node").GetString()!)
            .FirstOrDefault(n => LoopbackFleet.Workers.Contains(n))
        ?? LoopbackFleet.Workers[0];
}
