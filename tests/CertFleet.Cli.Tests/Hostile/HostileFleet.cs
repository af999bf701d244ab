using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CertFleet.Coordinator.Fleet;
using CertFleet.Coordinator.Rollouts;
using CertFleet.Protocol.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace CertFleet.Cli.Tests.Hostile;

/// <summary>
/// What an older coordinator (one that stored reports verbatim) hands the CLI after a hostile agent reported: a
/// 4-byte "certificate", one in BER that is not DER, and paths, names, reasons and probe output that are terminal
/// commands. master-1 reported a real certificate and must show as usual.
/// </summary>
internal sealed class HostileFleet : IFleetInventory, IRolloutAdmin
{
    /// <summary>OSC 0 (set the window title) ended by BEL, erase the line, carriage return, a fake verdict, a new line, right-to-left.</summary>
    public const string Attack = "\u001b]0;pwned\u0007\u001b[2K\rALL CERTIFICATES OK\n\u202e";
    public const string Escaped = @"\x1b]0;pwned\x07\x1b[2K\x0dALL CERTIFICATES OK\x0a\u202e";
    public const string RolloutId = "r-20261201-120000-beef";
    public const string GoodPath = "/etc/kubernetes/pki/apiserver.crt";
    public const string TinyPath = "/etc/kubernetes/pki/kubelet.crt";
    public const string BerPath = "/etc/kubernetes/pki/kube-proxy.crt";

    private readonly List<NodeRecord> _nodes;

    public HostileFleet(bool hostileNames)
    {
        var good = RealCertificate("kube-apiserver", DateTimeOffset.UtcNow.AddDays(200));
        var now = DateTimeOffset.UtcNow.AddMinutes(-1);
        var master = new InventoryReport { Certificates = { Reported(good, GoodPath) } };
        // 4 bytes: a SEQUENCE holding NULL, which no parser takes for a certificate
        var tiny = new InventoryReport { Certificates = { Reported([0x30, 0x02, 0x05, 0x00], TinyPath), Reported(good, "/etc/kubernetes/pki/worker-1.crt") } };
        var ber = new InventoryReport { Certificates = { Reported(NotDer(good), BerPath) } };
        _nodes =
        [
            new NodeRecord("master-1", NodeRole.Master, true, now, master),
            new NodeRecord("worker-1", NodeRole.Worker, true, now, tiny),
            new NodeRecord("worker-2", NodeRole.Worker, true, now, ber),
        ];
        if (hostileNames)
        {
            var hostile = new InventoryReport
            {
                Certificates = { Reported(good, "/etc/kubernetes/pki/" + Attack + ".crt") },
                Errors = { new ReportedError { Path = "/etc/" + Attack, Message = "could not read " + Attack } },
            };
            _nodes.Add(new NodeRecord("worker-" + Attack, NodeRole.Worker, true, now, hostile));
        }
    }

    public IReadOnlyList<NodeRecord> Nodes() => _nodes;

    public NodeRecord? Find(string node) => _nodes.FirstOrDefault(n => n.Name == node);

    public Task<NodeRecord> RefreshAsync(string node, CancellationToken cancellationToken) =>
        Task.FromResult(Find(node) ?? throw new KeyNotFoundException(node));

    public Task<RolloutPlan> PlanAsync(RolloutRequest request, CancellationToken cancellationToken) => Task.FromResult(new RolloutPlan
    {
        Certificates =
        {
            new PlannedCertificate
            {
                Node = "worker-" + Attack, Path = "/etc/" + Attack, KubeconfigUser = Attack, Subject = "CN=" + Attack,
                NotAfter = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(3)),
                NewNotAfter = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(365)),
            },
        },
        Refused = { Refused() },
        Steps = { new PlannedStep { Sequence = 1, Batch = 1, Kind = StepKind.Restart, Node = "worker-" + Attack, Unit = Attack + ".service" } },
        Warnings = { "warning from the node: " + Attack },
    });

    public Task<Rollout> StartAsync(RolloutRequest request, bool automatic, CancellationToken cancellationToken) => Task.FromResult(Halted());

    public Task<ListRolloutsResponse> ListAsync(CancellationToken cancellationToken) =>
        Task.FromResult(new ListRolloutsResponse { Rollouts = { Halted() } });

    public Task<Rollout> GetAsync(string id, CancellationToken cancellationToken) => Task.FromResult(Halted());

    public Task<Rollout> ResumeAsync(string id, IReadOnlyCollection<string> skipNodes, CancellationToken cancellationToken) => Task.FromResult(Halted());

    public Task<Rollout> AbortAsync(string id, CancellationToken cancellationToken) => Task.FromResult(Halted());

    public Task<Rollout> RollbackAsync(string id, string node, CancellationToken cancellationToken)
    {
        var rollout = Halted();
        rollout.Steps.Add(new RolloutStep { Sequence = 3, Batch = 3, Kind = StepKind.Rollback, Node = "worker-" + Attack, State = StepState.Failed, Message = "agent said " + Attack });
        return Task.FromResult(rollout);
    }

    public async IAsyncEnumerable<Rollout> WatchAsync(string id, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.Yield();
        yield return Halted();
    }

    public Task<VerifyFleetResponse> VerifyFleetAsync(VerifyFleetRequest request, CancellationToken cancellationToken) => Task.FromResult(new VerifyFleetResponse
    {
        Nodes =
        {
            new NodeVerification { Node = "worker-" + Attack, Reachable = false, Error = "agent said " + Attack },
            new NodeVerification
            {
                Node = "worker-1", Reachable = true,
                Result = new VerifyResponse { Problems = { new VerificationProblem { Path = "/etc/" + Attack, KubeconfigUser = Attack, Problem = Attack } } },
            },
        },
    });

    public static RefusedCertificate Refused() => new() { Node = "worker-" + Attack, Path = "/etc/" + Attack, Subject = "CN=" + Attack, Reason = "because " + Attack };

    private static Rollout Halted() => new()
    {
        Id = RolloutId, State = RolloutState.Halted, HaltReason = "restart failed on the node: " + Attack,
        CreatedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
        Steps =
        {
            new RolloutStep { Sequence = 1, Batch = 1, Kind = StepKind.Install, Node = "worker-" + Attack, State = StepState.Succeeded, Message = "installed " + Attack },
            new RolloutStep
            {
                Sequence = 2, Batch = 2, Kind = StepKind.Restart, Node = "worker-" + Attack, Unit = Attack + ".service", State = StepState.Failed,
                Message = "did not become healthy: " + Attack, ProbeOutput = "probe said " + Attack,
            },
        },
        Refused = { Refused() },
    };

    private static ReportedCertificate Reported(byte[] der, string path) =>
        new() { Der = ByteString.CopyFrom(der), Path = path, KeyPath = path.Replace(".crt", ".key", StringComparison.Ordinal), KeyState = KeyState.Matches, UsedBy = { "kubelet.service" } };

    private static byte[] RealCertificate(string name, DateTimeOffset notAfter)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(notAfter.AddDays(-400), notAfter);
        return certificate.RawData;
    }

    /// <summary>The same certificate with its outer length in a longer form than needed: valid BER, not DER.</summary>
    private static byte[] NotDer(byte[] der)
    {
        // a P-256 certificate is shorter than 256 bytes after the header only when tiny; take the long form as found
        var lengthBytes = der[1] & 0x7f;
        var length = der.AsSpan(2, lengthBytes);
        return [0x30, (byte)(0x80 | (lengthBytes + 1)), 0x00, .. length, .. der.AsSpan(2 + lengthBytes)];
    }
}
