using CertFleet.Protocol.V1;

namespace CertFleet.Coordinator.Rollouts;

/// <summary>
/// The rollout half of the admin API; the gRPC AdminService only maps to it. Unknown ids throw
/// <see cref="KeyNotFoundException"/>, requests that make no sense now (resume a completed rollout, start a
/// second one) throw <see cref="InvalidOperationException"/>, bad arguments <see cref="ArgumentException"/>;
/// each message is for the operator.
/// </summary>
public interface IRolloutAdmin
{
    Task<RolloutPlan> PlanAsync(RolloutRequest request, CancellationToken cancellationToken);

    Task<Rollout> StartAsync(RolloutRequest request, bool automatic, CancellationToken cancellationToken);

    Task<ListRolloutsResponse> ListAsync(CancellationToken cancellationToken);

    Task<Rollout> GetAsync(string id, CancellationToken cancellationToken);

    /// <summary>
    /// Sends a halted rollout's failed steps again and goes on; on the nodes in <paramref name="skipNodes"/>
    /// (--skip-node) nothing more is done: their remaining steps become "skipped", and each node's skip is audited.
    /// </summary>
    Task<Rollout> ResumeAsync(string id, IReadOnlyCollection<string> skipNodes, CancellationToken cancellationToken);

    Task<Rollout> AbortAsync(string id, CancellationToken cancellationToken);

    /// <summary>
    /// Puts back from their backups the files the rollout installed, on every node or on <paramref name="node"/>
    /// (empty: every node), restarting the units already restarted on them; not while the rollout is running.
    /// </summary>
    Task<Rollout> RollbackAsync(string id, string node, CancellationToken cancellationToken);

    /// <summary>The rollout now, then each time it changes, until it completes, halts or is aborted.</summary>
    IAsyncEnumerable<Rollout> WatchAsync(string id, CancellationToken cancellationToken);

    Task<VerifyFleetResponse> VerifyFleetAsync(VerifyFleetRequest request, CancellationToken cancellationToken);
}
