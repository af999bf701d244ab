using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using CertFleet.Coordinator.Rollouts;
using CertFleet.Protocol.V1;
using Google.Protobuf.WellKnownTypes;

namespace CertFleet.Cli.Tests.Fleet;

/// <summary>
/// The coordinator's rollout side with one rollout in each state, steps of every kind in every state, and text that
/// JSON must escape, so that what the CLI prints of them can be pinned byte for byte. <see cref="Listed"/> is what
/// `rollout list` and `status` see; <see cref="Watched"/> what `renew --wait` follows after the rollout starts.
/// </summary>
internal sealed class PinnedRollouts : IRolloutAdmin
{
    public static readonly string[] States = ["running", "halted", "completed", "aborted", "rolled-back"];

    private static readonly DateTimeOffset Start = new(2026, 11, 28, 9, 0, 0, TimeSpan.Zero);

    public IReadOnlyList<Rollout> Listed { get; set; } = [.. States.Select(Of)];

    /// <summary>The states `renew --wait` sees, one update each, after the running rollout it started.</summary>
    public IReadOnlyList<string> Watched { get; set; } = ["completed"];

    /// <summary>Every plan and start request, in order.</summary>
    public ConcurrentQueue<RolloutRequest> Requests { get; } = new();

    public static string IdOf(string state) => $"r-20261128-0900-{state}";

    public static Rollout Of(string state)
    {
        var rollout = new Rollout
        {
            Id = IdOf(state),
            State = RolloutText.ParseRolloutState(state),
            Automatic = state == "completed",
            CreatedAt = At(0),
            Request = new RolloutRequest { ExpiringWithinSeconds = 2_592_000, BatchSize = 2, LeafDays = 365, ExcludeNodes = { "worker-9" } },
        };
        rollout.Refused.Add(new RefusedCertificate
        {
            Node = "worker-2", Path = "/etc/kubernetes/pki/odd.crt", Subject = "CN=odd <\"quoted\"> & more",
            Reason = "its issuer is not a CA this coordinator holds; renew it with `certfleet renew --local --ca-cert F --ca-key F`",
        });
        rollout.Steps.Add(Step(1, 1, "renew-ca", "", "", "succeeded", "renewed CN=kubernetes until 2036-11-25"));
        rollout.Steps.Add(Step(2, 2, "install", "master-1", "", "succeeded", "4 files changed"));
        switch (state)
        {
            case "running":
                rollout.Steps.Add(Step(3, 3, "restart", "master-1", "etcd.service", "running"));
                rollout.Steps.Add(Step(4, 4, "restart", "worker-1", "kubelet.service", "pending"));
                break;
            case "halted":
                rollout.HaltReason = "restart of kube-apiserver.service on master-1 failed: not healthy within 60 s\nmaster-1 was rolled back";
                rollout.Steps[1].State = StepState.RolledBack;
                rollout.Steps.Add(Step(3, 3, "restart", "master-1", "kube-apiserver.service", "failed", "did not become healthy: \"livez\" said <no>",
                    "GET https://127.0.0.1:6443/livez: connection refused\n\tretried 60 times \\ gave up\nexit status 7"));
                rollout.Steps.Add(Step(5, 3, "rollback", "master-1", "kube-apiserver.service", "succeeded", "restored 4 files"));
                rollout.Steps.Add(Step(4, 4, "restart", "worker-1", "kubelet.service", "pending"));
                break;
            case "completed":
                rollout.FinishedAt = At(754.25);
                rollout.Steps.Add(Step(3, 3, "restart", "master-1", "etcd.service", "succeeded", "etcd.service is active; member healthy, quorum 3/3"));
                rollout.Steps.Add(Step(4, 4, "restart", "worker-1", "kubelet.service", "skipped", "worker-1 skipped by the operator (--skip-node worker-1)"));
                rollout.Steps.Add(Step(5, 4, "restart", "wörker-ü", "kubelet.service", "succeeded", "line one\u2028line two"));
                break;
            case "aborted":
                rollout.FinishedAt = At(120);
                rollout.HaltReason = "restart of etcd.service on master-1 failed";
                rollout.Steps.Add(Step(3, 3, "restart", "master-1", "etcd.service", "failed", "exit status 1", "etcd: no quorum"));
                rollout.Steps.Add(Step(4, 4, "restart", "worker-1", "kubelet.service", "skipped"));
                break;
            case "rolled-back":
                rollout.FinishedAt = At(3600);
                rollout.Steps[1].State = StepState.RolledBack;
                rollout.Steps.Add(Step(3, 3, "restart", "master-1", "etcd.service", "succeeded"));
                rollout.Steps.Add(Step(4, 4, "rollback", "master-1", "etcd.service", "succeeded", "restored 4 files"));
                rollout.Steps.Add(Step(5, 4, "rollback", "worker-1", "", "failed", "node worker-1 is not connected"));
                break;
            default:
                throw new ArgumentException($"no pinned rollout in state '{state}'", nameof(state));
        }
        return rollout;
    }

    /// <summary>A plan with a step of every kind a plan has, and a refusal and a warning.</summary>
    public static RolloutPlan Plan()
    {
        var plan = new RolloutPlan();
        plan.Certificates.Add(new PlannedCertificate
        {
            Node = "", Path = "/var/lib/certfleet/ca.crt", Subject = "CN=kubernetes", NotAfter = At(86_400), NewNotAfter = At(86_400 * 3650.0),
            IsAuthority = true,
        });
        plan.Certificates.Add(new PlannedCertificate
        {
            Node = "master-1", Path = "/etc/kubernetes/admin.conf", KubeconfigUser = "admin", Subject = "CN=admin,O=system:masters",
            NotAfter = At(86_400), NewNotAfter = At(86_400 * 365.0),
        });
        plan.Refused.Add(Of("running").Refused[0]);
        plan.Steps.Add(new PlannedStep { Sequence = 1, Batch = 1, Kind = StepKind.RenewCa });
        plan.Steps.Add(new PlannedStep { Sequence = 2, Batch = 2, Kind = StepKind.Install, Node = "master-1" });
        plan.Steps.Add(new PlannedStep { Sequence = 3, Batch = 3, Kind = StepKind.Restart, Node = "master-1", Unit = "kube-apiserver.service" });
        plan.Warnings.Add("the CA certificate CN=kubernetes expires before the leaves it signs; add --ca");
        return plan;
    }

    public Task<RolloutPlan> PlanAsync(RolloutRequest request, CancellationToken cancellationToken)
    {
        Requests.Enqueue(request);
        return Task.FromResult(Plan());
    }

    public Task<Rollout> StartAsync(RolloutRequest request, bool automatic, CancellationToken cancellationToken)
    {
        Requests.Enqueue(request);
        return Task.FromResult(Of("running"));
    }

    public Task<ListRolloutsResponse> ListAsync(CancellationToken cancellationToken) =>
        Task.FromResult(new ListRolloutsResponse { Rollouts = { Listed } });

    public Task<Rollout> GetAsync(string id, CancellationToken cancellationToken) => Find(id);

    public Task<Rollout> ResumeAsync(string id, IReadOnlyCollection<string> skipNodes, CancellationToken cancellationToken) => Find(id);

    public Task<Rollout> AbortAsync(string id, CancellationToken cancellationToken) => Find(id);

    public Task<Rollout> RollbackAsync(string id, string node, CancellationToken cancellationToken) => Find(id);

    public async IAsyncEnumerable<Rollout> WatchAsync(string id, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var running = Of("running");
        yield return running;
        foreach (var state in Watched)
        {
            await Task.Yield();
            var update = Of(state);
            update.Id = running.Id;
            yield return update;
        }
    }

    public Task<VerifyFleetResponse> VerifyFleetAsync(VerifyFleetRequest request, CancellationToken cancellationToken) =>
        Task.FromResult(new VerifyFleetResponse());

    private static RolloutStep Step(int sequence, int batch, string kind, string node, string unit, string state, string message = "", string probe = "") =>
        new()
        {
            Sequence = sequence, Batch = batch, Kind = RolloutText.ParseStepKind(kind), Node = node, Unit = unit, State = RolloutText.ParseStepState(state),
            Message = message, ProbeOutput = probe,
            StartedAt = state == "pending" ? null : At(sequence * 10),
            FinishedAt = state is "pending" or "running" ? null : At(sequence * 10 + 5.5),
        };

    private static Timestamp At(double seconds) => Timestamp.FromDateTimeOffset(Start.AddSeconds(seconds));

    private Task<Rollout> Find(string id) =>
        Listed.Concat(States.Select(Of)).FirstOrDefault(r => r.Id == id) is { } rollout
            ? Task.FromResult(rollout)
            : throw new KeyNotFoundException($"no rollout '{id}'; `certfleet rollout list` shows them");
}
