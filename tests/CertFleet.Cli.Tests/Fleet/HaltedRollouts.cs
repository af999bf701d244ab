using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using CertFleet.Coordinator.Rollouts;
using CertFleet.Protocol.V1;

namespace CertFleet.Cli.Tests.Fleet;

/// <summary>
/// The coordinator's rollout side with one rollout that halts at master-2's kube-apiserver gate (what the CLI shows
/// of that is under test here; the coordinator's own tests run real rollouts). Rollback requests are recorded;
/// node "master-3" cannot be reached.
/// </summary>
internal sealed class HaltedRollouts : IRolloutAdmin
{
    public const string Id = "r-20261128-120000-abcd";
    public const string Probe = "GET https://127.0.0.1:6443/livez: connection refused\nexit status 7";
    public const string Reason = "restart of kube-apiserver.service on master-2 failed: kube-apiserver.service did not become healthy "
        + "(probe: GET https://127.0.0.1:6443/livez: connection refused); master-2 was rolled back to its previous files";

    private Rollout _rollout = Halted();

    public ConcurrentQueue<RollbackRolloutRequest> Rollbacks { get; } = new();

    /// <summary>The --skip-node names of each resume, in order.</summary>
    public ConcurrentQueue<string[]> Resumes { get; } = new();

    public ConcurrentQueue<RolloutRequest> Plans { get; } = new();

    public static Rollout Halted()
    {
        var rollout = new Rollout { Id = Id, State = RolloutState.Halted, HaltReason = Reason, Request = new RolloutRequest { All = true } };
        rollout.Steps.Add(new RolloutStep { Sequence = 1, Batch = 1, Kind = StepKind.Install, Node = "master-2", State = StepState.RolledBack, Message = "4 files changed" });
        rollout.Steps.Add(new RolloutStep { Sequence = 2, Batch = 1, Kind = StepKind.Install, Node = "master-3", State = StepState.Succeeded, Message = "4 files changed" });
        rollout.Steps.Add(new RolloutStep
        {
            Sequence = 3, Batch = 2, Kind = StepKind.Restart, Node = "master-2", Unit = "kube-apiserver.service", State = StepState.Failed,
            Message = "kube-apiserver.service did not become healthy", ProbeOutput = Probe,
        });
        rollout.Steps.Add(new RolloutStep { Sequence = 4, Batch = 3, Kind = StepKind.Restart, Node = "master-3", Unit = "kube-apiserver.service", State = StepState.Pending });
        rollout.Steps.Add(new RolloutStep { Sequence = 5, Batch = 2, Kind = StepKind.Rollback, Node = "master-2", Unit = "kube-apiserver.service", State = StepState.Succeeded, Message = "restored" });
        rollout.Steps.Add(new RolloutStep { Sequence = 6, Batch = 1, Kind = StepKind.Install, Node = "master-1", State = StepState.Succeeded, Message = "4 files changed" });
        return rollout;
    }

    public Task<RolloutPlan> PlanAsync(RolloutRequest request, CancellationToken cancellationToken)
    {
        Plans.Enqueue(request);
        return Task.FromResult(new RolloutPlan());
    }

    public Task<Rollout> StartAsync(RolloutRequest request, bool automatic, CancellationToken cancellationToken)
    {
        var running = Halted();
        running.State = RolloutState.Running;
        running.HaltReason = "";
        return Task.FromResult(running);
    }

    public Task<ListRolloutsResponse> ListAsync(CancellationToken cancellationToken) =>
        Task.FromResult(new ListRolloutsResponse { Rollouts = { _rollout } });

    public Task<Rollout> GetAsync(string id, CancellationToken cancellationToken) => Find(id);

    public Task<Rollout> ResumeAsync(string id, IReadOnlyCollection<string> skipNodes, CancellationToken cancellationToken)
    {
        Resumes.Enqueue([.. skipNodes]);
        return Find(id);
    }

    public Task<Rollout> AbortAsync(string id, CancellationToken cancellationToken) => Find(id);

    public async Task<Rollout> RollbackAsync(string id, string node, CancellationToken cancellationToken)
    {
        var rollout = (await Find(id)).Clone();
        Rollbacks.Enqueue(new RollbackRolloutRequest { RolloutId = id, Node = node });
        var sequence = rollout.Steps.Max(s => s.Sequence);
        foreach (var install in rollout.Steps.Where(s => s is { Kind: StepKind.Install, State: StepState.Succeeded } && (node.Length == 0 || s.Node == node)).ToList())
        {
            var reachable = install.Node != "master-3";
            rollout.Steps.Add(new RolloutStep
            {
                Sequence = ++sequence, Batch = 4, Kind = StepKind.Rollback, Node = install.Node, State = reachable ? StepState.Succeeded : StepState.Failed,
                Message = reachable ? "restored 4 files" : "node master-3 is not connected; check that its certfleet-agent service runs",
            });
        }
        if (rollout.Steps.All(s => s.Kind != StepKind.Rollback || s.State == StepState.Succeeded))
        {
            rollout.State = RolloutState.RolledBack;
        }
        _rollout = rollout;
        return rollout;
    }

    public async IAsyncEnumerable<Rollout> WatchAsync(string id, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var running = await StartAsync(new RolloutRequest(), false, cancellationToken);
        yield return running;
        await Task.Delay(20, cancellationToken);
        yield return await Find(id);
    }

    public Task<VerifyFleetResponse> VerifyFleetAsync(VerifyFleetRequest request, CancellationToken cancellationToken) =>
        Task.FromResult(new VerifyFleetResponse());

    private Task<Rollout> Find(string id) => id == Id
        ? Task.FromResult(_rollout)
        : throw new KeyNotFoundException($"no rollout '{id}'; `certfleet rollout list` shows them");
}
