using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using CertFleet.Coordinator.Rollouts;
using CertFleet.Protocol.V1;
using Google.Protobuf.WellKnownTypes;

namespace CertFleet.Cli.Tests.Fleet;

/// <summary>
/// The coordinator's rollout side for a CA re-key (what the coordinator plans is its own tests' business): a plan
/// with a step of every re-key kind, its trust, switch-signing and retire steps with the files they write (one
/// name carries a terminal command), and a rollout of those steps that `renew --wait` follows to the end, or to the
/// pause of --stop-after trust. Every plan and start request is kept; with <see cref="Refusal"/>, both are refused
/// as the coordinator refuses a re-key it will not do.
/// </summary>
internal sealed class RekeyRollouts : IRolloutAdmin
{
    public const string Id = "r-20261206-1200-rekey";

    /// <summary>A file name with ESC [2J (clear the screen) in it, as a hostile node could report one.</summary>
    public const string HostileFile = "/etc/kubernetes/pki/ca\u001b[2J.crt";

    /// <summary>The --new-ca-key a careless coordinator echoes in <see cref="Finished"/>'s request.</summary>
    public const string PrivateKeyText = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n";

    private static readonly DateTimeOffset Start = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    /// <summary>Every plan and start request, in order.</summary>
    public ConcurrentQueue<RolloutRequest> Requests { get; } = new();

    /// <summary>When set, plan and start throw it as the coordinator's refusal (FailedPrecondition).</summary>
    public string? Refusal { get; set; }

    public static RolloutPlan Plan()
    {
        var plan = new RolloutPlan();
        plan.Certificates.Add(new PlannedCertificate
        {
            Node = "master-1", Path = "/etc/kubernetes/pki/apiserver.crt", Subject = "CN=kube-apiserver",
            NotAfter = At(86_400 * 300.0), NewNotAfter = At(86_400 * 365.0),
        });
        foreach (var step in Steps())
        {
            plan.Steps.Add(step);
        }
        return plan;
    }

    /// <summary>The re-key's steps: new CA, trust (with files), restart, pause, switch, install, switch-signing, restart, retire, retire-ca.</summary>
    public static IEnumerable<PlannedStep> Steps() =>
    [
        Planned(1, 1, StepKind.NewCa, "", ""),
        Planned(2, 2, StepKind.Trust, "master-1", "", "/etc/kubernetes/pki/ca.crt", "/etc/kubernetes/pki/ca-signing.crt", "/etc/kubernetes/kubelet.conf"),
        Planned(3, 2, StepKind.Trust, "worker-1", "", "/etc/kubernetes/pki/ca.crt", HostileFile),
        Planned(4, 3, StepKind.Restart, "master-1", "kube-apiserver.service"),
        Planned(5, 4, StepKind.Pause, "", ""),
        Planned(6, 5, StepKind.SwitchCa, "", ""),
        Planned(7, 6, StepKind.Install, "master-1", ""),
        Planned(8, 7, StepKind.SwitchSigning, "master-1", "", "/etc/kubernetes/pki/ca-signing.crt", "/etc/kubernetes/pki/ca-signing.key"),
        Planned(9, 8, StepKind.Restart, "master-1", "kube-controller-manager.service"),
        Planned(10, 9, StepKind.Retire, "worker-1", "", "/etc/kubernetes/pki/ca.crt"),
        Planned(11, 10, StepKind.RetireCa, "", ""),
    ];

    /// <summary>The rollout of <see cref="Steps"/>: the first <paramref name="done"/> succeeded, the rest pending.</summary>
    public static Rollout Of(RolloutState state, int done, RolloutRequest request)
    {
        var rollout = new Rollout { Id = Id, State = state, CreatedAt = At(0), Request = request };
        foreach (var step in Steps())
        {
            rollout.Steps.Add(new RolloutStep
            {
                Sequence = step.Sequence, Batch = step.Batch, Kind = step.Kind, Node = step.Node, Unit = step.Unit,
                State = step.Sequence <= done ? StepState.Succeeded : StepState.Pending,
                StartedAt = step.Sequence <= done ? At(step.Sequence * 10) : null,
                FinishedAt = step.Sequence <= done ? At(step.Sequence * 10 + 5) : null,
            });
        }
        return rollout;
    }

    public Task<RolloutPlan> PlanAsync(RolloutRequest request, CancellationToken cancellationToken)
    {
        Requests.Enqueue(request);
        return Refusal is null ? Task.FromResult(Plan()) : throw new InvalidOperationException(Refusal);
    }

    public Task<Rollout> StartAsync(RolloutRequest request, bool automatic, CancellationToken cancellationToken)
    {
        Requests.Enqueue(request);
        return Refusal is null ? Task.FromResult(Of(RolloutState.Running, 0, request)) : throw new InvalidOperationException(Refusal);
    }

    /// <summary>Running, then: with --stop-after trust, halted at the pause step (running); else completed.</summary>
    public async IAsyncEnumerable<Rollout> WatchAsync(string id, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var request = Requests.LastOrDefault() ?? new RolloutRequest();
        yield return Of(RolloutState.Running, 1, request);
        await Task.Yield();
        if (request.RekeyCa?.StopAfter == "trust")
        {
            var paused = Of(RolloutState.Halted, 4, request);
            paused.Steps[4].State = StepState.Running;
            paused.Steps[4].Message = "waiting for `certfleet rollout resume`";
            paused.HaltReason = "stopped after the trust phase, as --stop-after trust asked";
            yield return paused;
        }
        else
        {
            var completed = Of(RolloutState.Completed, 11, request);
            completed.FinishedAt = At(600);
            yield return completed;
        }
    }

    /// <summary>
    /// The finished re-key that `rollout show` and `rollout list` see, its request holding a --new-ca-key as a careless
    /// coordinator might echo it.
    /// </summary>
    public static Rollout Finished()
    {
        var rekey = new RekeyCa { Authorities = { "kubernetes-ca" }, NewCaCertPem = "-----BEGIN CERTIFICATE-----\n", NewCaKeyPem = PrivateKeyText };
        var rollout = Of(RolloutState.Completed, 11, new RolloutRequest { All = true, RekeyCa = rekey });
        rollout.FinishedAt = At(600);
        return rollout;
    }

    public Task<ListRolloutsResponse> ListAsync(CancellationToken cancellationToken) =>
        Task.FromResult(new ListRolloutsResponse { Rollouts = { Finished() } });

    public Task<Rollout> GetAsync(string id, CancellationToken cancellationToken) => Find(id);

    public Task<Rollout> ResumeAsync(string id, IReadOnlyCollection<string> skipNodes, CancellationToken cancellationToken) => Find(id);

    public Task<Rollout> AbortAsync(string id, CancellationToken cancellationToken) => Find(id);

    public Task<Rollout> RollbackAsync(string id, string node, CancellationToken cancellationToken) => Find(id);

    public Task<VerifyFleetResponse> VerifyFleetAsync(VerifyFleetRequest request, CancellationToken cancellationToken) =>
        Task.FromResult(new VerifyFleetResponse());

    private static PlannedStep Planned(int sequence, int batch, StepKind kind, string node, string unit, params string[] files) =>
        new() { Sequence = sequence, Batch = batch, Kind = kind, Node = node, Unit = unit, Files = { files } };

    private static Timestamp At(double seconds) => Timestamp.FromDateTimeOffset(Start.AddSeconds(seconds));

    private static Task<Rollout> Find(string id) => id == Id
        ? Task.FromResult(Finished())
        : throw new KeyNotFoundException($"no rollout '{id}'; `certfleet rollout list` shows them");
}
