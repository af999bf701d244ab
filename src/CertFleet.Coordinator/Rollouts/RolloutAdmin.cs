using System.Runtime.CompilerServices;
using System.Threading.Channels;
using CertFleet.Coordinator.Audit;
using CertFleet.Coordinator.Fleet;
using CertFleet.Coordinator.Signing;
using CertFleet.Protocol.V1;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Logging;

namespace CertFleet.Coordinator.Rollouts;

/// <summary>The rollout half of the admin API over the planner, the store and the runner.</summary>
internal sealed partial class RolloutAdmin(
    RolloutPlanner planner,
    RolloutStore store,
    RolloutRunner runner,
    RolloutRollback rollback,
    ClusterAuthorities authorities,
    IAgentGateway gateway,
    IFleetInventory inventory,
    AuditLog audit,
    TimeProvider time,
    ILogger<RolloutAdmin> logger) : IRolloutAdmin
{
    private const int MaxConcurrentVerifications = 32;
    private static readonly TimeSpan VerifyTimeout = TimeSpan.FromMinutes(2);

    /// <summary>How often a watch on a standby reads the rollout the active coordinator writes.</summary>
    private static readonly TimeSpan StandbyWatchReadsEvery = TimeSpan.FromSeconds(2);

    // Start and resume check "nothing else is running" and then write: one at a time.
    private readonly SemaphoreSlim _starting = new(1, 1);

    public Task<RolloutPlan> PlanAsync(RolloutRequest request, CancellationToken cancellationToken) =>
        PlanCoreAsync(request, cancellationToken);

    public async Task<Rollout> StartAsync(RolloutRequest request, bool automatic, CancellationToken cancellationToken)
    {
        await _starting.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            EnsureNothingUnfinished();
            var planned = await planner.PlanAsync(request, refresh: true, cancellationToken).ConfigureAwait(false);
            if (planned.Blockers.Count > 0)
            {
                DisposeSuccessors(planned);
                throw new InvalidOperationException($"the re-key was not started: {string.Join("; ", planned.Blockers)}; " +
                    "a re-key must reach every node, or the ones it misses lose trust in the cluster when the old CA is retired");
            }
            if (planned.IsEmpty)
            {
                throw new InvalidOperationException("nothing to renew: no certificate on a connected node is selected (see `certfleet plan`)");
            }
            var now = time.GetUtcNow();
            var rollout = new Rollout
            {
                Id = RolloutIds.New(now),
                State = RolloutState.Running,
                Automatic = automatic,
                CreatedAt = Timestamp.FromDateTimeOffset(now),
                Request = planned.Request,
            };
            rollout.Refused.AddRange(planned.Plan.Refused);
            rollout.Steps.AddRange(planned.Plan.Steps.Select(s => new RolloutStep
            {
                Sequence = s.Sequence, Batch = s.Batch, Kind = s.Kind, Node = s.Node, Unit = s.Unit, State = StepState.Pending,
            }));
            if (planned.Successors.Count > 0)
            {
                // the new keys go to the state folder (0600) before the rollout exists; the database never holds a key
                authorities.BeginRekey(rollout.Id, planned.Successors.Select(s => (s.Old.Certificate, s.New.Authority, s.New.KeyPem)).ToList());
                AuditRekey(rollout, planned);
                rollout.Request.RekeyCa.NewCaKeyPem = "";
                rollout.Request.RekeyCa.NewCaCertPem = "";
            }
            store.Create(rollout, planned.Targets);
            AuditStart(rollout, planned.Plan);
            Log.Started(logger, rollout.Id, automatic, planned.Plan.Certificates.Count, rollout.Steps.Count, planned.Plan.Refused.Count);
            runner.Wake();
            return rollout;
        }
        finally
        {
            _starting.Release();
        }
    }

    private void AuditRekey(Rollout rollout, PlannedRollout planned)
    {
        foreach (var (old, next) in planned.Successors)
        {
            audit.Append(new AuditRecord(AuditKinds.CaRekeyStarted, "admin")
            {
                RolloutId = rollout.Id, Subject = next.Certificate.Subject, Serial = next.Certificate.SerialHex, NotAfter = next.Certificate.NotAfter,
                PreviousSerial = old.Certificate.SerialHex,
                Detail = $"new CA for {old.Certificate.Subject}: {Pki.Rekey.AuthorityKeyType.Of(next.Certificate)}" +
                    (rollout.Request.RekeyCa.NewCaCertPem.Length > 0 ? ", given by the operator" : ", made by the coordinator"),
            });
        }
    }

    private static void DisposeSuccessors(PlannedRollout planned)
    {
        foreach (var (_, next) in planned.Successors)
        {
            next.Dispose();
        }
    }

    private void AuditStart(Rollout rollout, RolloutPlan plan)
    {
        var actor = rollout.Automatic ? "coordinator" : "admin";
        audit.Append(new AuditRecord(AuditKinds.RolloutStarted, actor)
        {
            RolloutId = rollout.Id,
            Detail = $"{plan.Certificates.Count} certificate(s) to renew, {plan.Refused.Count} refused, {rollout.Steps.Count} steps; request {rollout.Request}",
        });
        foreach (var refusal in plan.Refused)
        {
            Log.Refused(logger, rollout.Id, refusal.Node, refusal.Path, refusal.Subject, refusal.Reason);
            audit.Append(new AuditRecord(AuditKinds.Refused, actor)
            {
                Node = refusal.Node, Path = refusal.Path, Subject = refusal.Subject, Reason = refusal.Reason, RolloutId = rollout.Id,
            });
        }
    }

    public Task<ListRolloutsResponse> ListAsync(CancellationToken cancellationToken) =>
        Task.FromResult(new ListRolloutsResponse { Rollouts = { store.List() } });

    public Task<Rollout> GetAsync(string id, CancellationToken cancellationToken) => Task.FromResult(Get(id));

    public async Task<Rollout> ResumeAsync(string id, IReadOnlyCollection<string> skipNodes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(skipNodes);
        await _starting.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var rollout = Get(id);
            var skip = SkippedNodes(rollout, skipNodes);
            if (rollout.State != RolloutState.Halted)
            {
                throw new InvalidOperationException($"rollout {id} is {rollout.State.ToText()}; only a halted rollout can be resumed");
            }
            var retried = RolloutRetry.Plan(rollout, skip);
            if (!store.Transition(id, [RolloutState.Halted], RolloutState.Running, "", null, retried))
            {
                throw new InvalidOperationException($"rollout {id} changed meanwhile ({Get(id).State.ToText()}); look at it again");
            }
            Log.Resumed(logger, id, retried.Count(s => s.State == StepState.Pending));
            audit.Append(new AuditRecord(AuditKinds.RolloutResumed, "admin")
            {
                RolloutId = id, Detail = skip.Count == 0 ? "" : $"skipping {string.Join(", ", skip.Order(StringComparer.Ordinal))}",
            });
            foreach (var node in skip.Order(StringComparer.Ordinal))
            {
                var skipped = retried.Where(s => s.Node == node && s.State == StepState.Skipped).Select(s => s.Sequence).Order().ToList();
                Log.Skipped(logger, id, node, skipped.Count);
                audit.Append(new AuditRecord(AuditKinds.StepSkipped, "admin")
                {
                    Node = node, RolloutId = id,
                    Reason = $"{RolloutRetry.SkippedBecause(node)} (halted: {rollout.HaltReason})",
                    Detail = $"{skipped.Count} step(s) skipped: {string.Join(", ", skipped)}",
                });
            }
            runner.Wake();
            return Get(id);
        }
        finally
        {
            _starting.Release();
        }
    }

    public Task<Rollout> AbortAsync(string id, CancellationToken cancellationToken)
    {
        var rollout = Get(id);
        if (!rollout.State.IsUnfinished())
        {
            throw new InvalidOperationException($"rollout {id} is already {rollout.State.ToText()}");
        }
        var skipped = rollout.Steps.Where(s => s.State == StepState.Pending).ToList();
        foreach (var step in skipped)
        {
            step.State = StepState.Skipped;
            step.Message = "the rollout was aborted";
        }
        if (!store.Transition(id, [RolloutState.Running, RolloutState.Halted], RolloutState.Aborted, rollout.HaltReason,
            Timestamp.FromDateTimeOffset(time.GetUtcNow()), skipped))
        {
            throw new InvalidOperationException($"rollout {id} finished meanwhile ({Get(id).State.ToText()})");
        }
        // Steps in flight finish; their files are renewed ones with the same keys, so the fleet stays consistent.
        Log.Aborted(logger, id, skipped.Count);
        audit.Append(new AuditRecord(AuditKinds.RolloutAborted, "admin") { RolloutId = id, Detail = $"{skipped.Count} pending step(s) skipped" });
        return Task.FromResult(Get(id));
    }

    public async Task<Rollout> RollbackAsync(string id, string node, CancellationToken cancellationToken)
    {
        // one at a time with start and resume: a rollout must not be resumed while its files are being put back
        await _starting.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await rollback.RollBackAsync(id, node, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _starting.Release();
        }
    }

    public async IAsyncEnumerable<Rollout> WatchAsync(string id, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var changes = Channel.CreateBounded<string>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
        void OnChanged(string changed)
        {
            if (changed == id)
            {
                changes.Writer.TryWrite(changed);
            }
        }
        store.Changed += OnChanged;
        try
        {
            var rollout = Get(id);
            yield return rollout;
            while (rollout.State == RolloutState.Running)
            {
                await NextChangeAsync(changes.Reader, cancellationToken).ConfigureAwait(false);
                var now = Get(id);
                if (!now.Equals(rollout))
                {
                    rollout = now;
                    yield return rollout;
                }
            }
        }
        finally
        {
            store.Changed -= OnChanged;
        }
    }

    /// <summary>
    /// Until this coordinator changes the rollout, or on a standby of a group (whose rollouts the active coordinator
    /// writes, so no change is seen here) until <see cref="StandbyWatchReadsEvery"/> has passed.
    /// </summary>
    private async Task NextChangeAsync(ChannelReader<string> changes, CancellationToken cancellationToken)
    {
        if (runner.RunsRollouts)
        {
            await changes.ReadAsync(cancellationToken).ConfigureAwait(false);
            return;
        }
        using var reread = new CancellationTokenSource(StandbyWatchReadsEvery, time);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, reread.Token);
        try
        {
            await changes.ReadAsync(either.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // time to read the rollout again
        }
    }

    public async Task<VerifyFleetResponse> VerifyFleetAsync(VerifyFleetRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        IEnumerable<string> nodes;
        if (request.Node.Length > 0)
        {
            nodes = [inventory.Find(request.Node)?.Name
                ?? throw new KeyNotFoundException($"no node named '{request.Node}' is enrolled; `certfleet status` lists the nodes")];
        }
        else
        {
            nodes = inventory.Nodes().Where(n => n.Connected).Select(n => n.Name);
        }
        var results = new List<NodeVerification>();
        await Parallel.ForEachAsync(nodes,
            new ParallelOptions { MaxDegreeOfParallelism = MaxConcurrentVerifications, CancellationToken = cancellationToken },
            async (node, token) =>
            {
                var result = await VerifyNodeAsync(node, request.WarnWithinDays, token).ConfigureAwait(false);
                lock (results)
                {
                    results.Add(result);
                }
            }).ConfigureAwait(false);
        return new VerifyFleetResponse { Nodes = { results.OrderBy(r => r.Node, StringComparer.Ordinal) } };
    }

    private async Task<NodeVerification> VerifyNodeAsync(string node, int warnWithinDays, CancellationToken cancellationToken)
    {
        if (!gateway.IsConnected(node))
        {
            return new NodeVerification { Node = node, Reachable = false, Error = $"{node}'s agent is not connected" };
        }
        try
        {
            var answer = await gateway.SendAsync(node, new CoordinatorMessage { Verify = new VerifyRequest { WarnWithinDays = warnWithinDays } },
                VerifyTimeout, cancellationToken).ConfigureAwait(false);
            return answer.BodyCase == AgentMessage.BodyOneofCase.Verification
                ? new NodeVerification { Node = node, Reachable = true, Result = answer.Verification }
                : new NodeVerification { Node = node, Reachable = true, Error = $"{node} answered the verification with {answer.BodyCase}" };
        }
        catch (AgentUnavailableException e)
        {
            return new NodeVerification { Node = node, Reachable = false, Error = e.Message };
        }
    }

    private async Task<RolloutPlan> PlanCoreAsync(RolloutRequest request, CancellationToken cancellationToken)
    {
        var planned = await planner.PlanAsync(request, refresh: true, cancellationToken).ConfigureAwait(false);
        DisposeSuccessors(planned); // a preview: the new CAs it made are thrown away
        return planned.Plan;
    }

    /// <summary>The --skip-node names, each a node with steps in the rollout: a typo must not resume into the node it meant to spare.</summary>
    private static HashSet<string> SkippedNodes(Rollout rollout, IReadOnlyCollection<string> skipNodes)
    {
        var errors = new List<string>();
        if (skipNodes.Any(string.IsNullOrWhiteSpace))
        {
            errors.Add($"--skip-node needs a node name (`certfleet rollout show {rollout.Id}` lists the rollout's nodes)");
        }
        foreach (var node in skipNodes.Where(n => !string.IsNullOrWhiteSpace(n)).Distinct(StringComparer.Ordinal))
        {
            if (node == RolloutPlanner.CoordinatorNode)
            {
                errors.Add($"--skip-node {node}: the coordinator's own steps (renewing the CAs) cannot be skipped; abort the rollout instead");
            }
            else if (!rollout.Steps.Any(s => s.Node == node))
            {
                errors.Add($"--skip-node {node}: rollout {rollout.Id} has no steps on a node named {node} (`certfleet rollout show {rollout.Id}` lists them); nothing was resumed");
            }
        }
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", errors));
        }
        return skipNodes.ToHashSet(StringComparer.Ordinal);
    }

    private void EnsureNothingUnfinished()
    {
        if (store.FindUnfinished() is { } unfinished)
        {
            throw new InvalidOperationException(
                $"rollout {unfinished.Id} is {unfinished.State.ToText()}; one rollout at a time: resume or abort it first (`certfleet rollout show {unfinished.Id}`)");
        }
    }

    private Rollout Get(string id) =>
        store.Find(id) ?? throw new KeyNotFoundException($"no rollout '{id}'; `certfleet rollout list` shows them");

    private static partial class Log
    {
        // the plan an operator acts on: the one line per started rollout (a preview with `certfleet plan` is Debug)
        [LoggerMessage(EventId = 3020, Level = LogLevel.Information, Message = "Rollout {Rollout} started (automatic: {Automatic}): {Certificates} certificates, {Steps} steps, {Refused} refused")]
        public static partial void Started(ILogger logger, string rollout, bool automatic, int certificates, int steps, int refused);

        // same words as the signer's refusal (RenewalSigner event 2011): the policy refused it when the rollout was planned
        [LoggerMessage(EventId = 3023, Level = LogLevel.Warning, Message = "Rollout {Rollout} will not renew {Subject} ({Path}) on {Node}: {Reason}")]
        public static partial void Refused(ILogger logger, string rollout, string node, string path, string subject, string reason);

        [LoggerMessage(EventId = 3021, Level = LogLevel.Warning, Message = "Rollout {Rollout} resumed: {Retried} step(s) sent again")]
        public static partial void Resumed(ILogger logger, string rollout, int retried);

        [LoggerMessage(EventId = 3024, Level = LogLevel.Warning, Message = "Rollout {Rollout} resumed without {Node} (--skip-node): {Skipped} step(s) skipped")]
        public static partial void Skipped(ILogger logger, string rollout, string node, int skipped);

        [LoggerMessage(EventId = 3022, Level = LogLevel.Warning, Message = "Rollout {Rollout} aborted; {Skipped} step(s) will not run")]
        public static partial void Aborted(ILogger logger, string rollout, int skipped);
    }
}
