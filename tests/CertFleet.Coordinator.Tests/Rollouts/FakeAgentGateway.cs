using System.Collections.Concurrent;
using CertFleet.Coordinator.Fleet;
using CertFleet.Pki;
using CertFleet.Pki.Certificates;
using CertFleet.Pki.Files;
using CertFleet.Pki.Inventory;
using CertFleet.Pki.Renewal;
using CertFleet.Pki.Signing;
using CertFleet.Pki.Verification;
using CertFleet.Protocol.V1;
using Google.Protobuf;

namespace CertFleet.Coordinator.Tests.Rollouts;

/// <summary>A restart an agent was asked for, in the order they happened.</summary>
internal sealed record RecordedRestart(int Ordinal, string Node, string Unit, string StepId, bool Rollback);

/// <summary>
/// Agents that behave like the real ones on real node folders, using the real engine: scan, CSRs from the
/// node's own keys, install with backup, rollback from it, a journal of step results by step id. Restarts are
/// recorded (and fail for the units a test chooses).
/// </summary>
internal sealed class FakeAgentGateway(IReadOnlyDictionary<string, string> nodeDirectories) : IAgentGateway
{
    private readonly ConcurrentDictionary<string, StepResult> _journal = new();
    private readonly ConcurrentQueue<RecordedRestart> _restarts = new();
    private readonly ConcurrentDictionary<string, int> _sentSteps = new();
    private int _ordinal;

    public IReadOnlyDictionary<string, string> NodeDirectories => nodeDirectories;

    /// <summary>(node, unit) pairs whose health gate fails.</summary>
    public ConcurrentDictionary<(string Node, string Unit), string> FailingGates { get; } = new();

    public ConcurrentDictionary<string, bool> Disconnected { get; } = new();

    /// <summary>A hostile agent: replaces the CSR it would send for (node, certificate), e.g. with one asking for more.</summary>
    public Func<string, CertificateEntry, byte[], byte[]>? TamperCsr { get; set; }

    /// <summary>Called before a restart is done; may block (to simulate a coordinator dying mid-step).</summary>
    public Func<string, string, CancellationToken, Task>? BeforeRestart { get; set; }

    /// <summary>Called after an install was done on the node, before its answer goes back; may throw (a coordinator dying before it recorded the step).</summary>
    public Func<string, CancellationToken, Task>? AfterInstall { get; set; }

    public IReadOnlyList<RecordedRestart> Restarts => _restarts.OrderBy(r => r.Ordinal).ToList();

    /// <summary>How many times each step id was sent (a re-sent step is answered from the journal).</summary>
    public IReadOnlyDictionary<string, int> SentSteps => _sentSteps;

    /// <summary>Every re-key request sent, by node, in order (previews included).</summary>
    public ConcurrentQueue<(string Node, RekeyRequest Request)> RekeyRequests { get; } = new();

    public bool IsConnected(string node) => nodeDirectories.ContainsKey(node) && !Disconnected.ContainsKey(node);

    public async Task<AgentMessage> SendAsync(string node, CoordinatorMessage request, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!IsConnected(node))
        {
            throw new AgentUnavailableException($"{node} is not connected");
        }
        var root = new NodeRoot(nodeDirectories[node]);
        return request.BodyCase switch
        {
            CoordinatorMessage.BodyOneofCase.InventoryRequest => new AgentMessage { Inventory = Scan(root, InventoryReports.From) },
            CoordinatorMessage.BodyOneofCase.CsrRequest => new AgentMessage { Csrs = Csrs(node, root, request.CsrRequest) },
            CoordinatorMessage.BodyOneofCase.Install => await InstallStepAsync(node, root, request.Install, cancellationToken),
            CoordinatorMessage.BodyOneofCase.Restart => await RestartAsync(node, request.Restart, cancellationToken),
            CoordinatorMessage.BodyOneofCase.Rollback => Step(request.Rollback.StepId, () => Rollback(node, root, request.Rollback)),
            CoordinatorMessage.BodyOneofCase.Verify => new AgentMessage { Verification = Scan(root, Verify) },
            CoordinatorMessage.BodyOneofCase.Rekey => Rekey(node, root, request.Rekey),
            CoordinatorMessage.BodyOneofCase.Gate => Step(request.Gate.StepId, () => new StepResult { StepId = request.Gate.StepId, Ok = true, Message = "gate: not probed here" }),
            _ => throw new AgentUnavailableException($"{node} does not understand {request.BodyCase}"),
        };
    }

    private static T Scan<T>(NodeRoot root, Func<NodeInventory, T> use)
    {
        using var inventory = new NodeScanner(TimeProvider.System).Scan(root);
        return use(inventory);
    }

    private AgentMessage Rekey(string node, NodeRoot root, RekeyRequest request)
    {
        RekeyRequests.Enqueue((node, request.Clone()));
        var pairs = request.Authorities.Select(a => new Pki.Rekey.RekeyPair(CertificateInfo.Parse(a.OldCaDer.Span, "old"),
            CertificateInfo.Parse(a.NewCaDer.Span, "new"), a.NewCaKeyPem.Length > 0 ? a.NewCaKeyPem : null)).ToList();
        var stage = request.Action switch
        {
            RekeyAction.Trust => Pki.Rekey.RekeyStage.Trust,
            RekeyAction.SwitchSigning => Pki.Rekey.RekeyStage.SwitchSigning,
            _ => Pki.Rekey.RekeyStage.Retire,
        };
        if (request.Preview)
        {
            return Scan(root, inventory =>
            {
                var preview = Pki.Rekey.RekeyInstaller.Preview(inventory, stage, pairs);
                return new AgentMessage
                {
                    RekeyPreview = new RekeyPreview
                    {
                        Files = { preview.Files }, Units = { preview.Units }, SigningFiles = { preview.SigningFiles }, TrustFiles = { preview.TrustFiles },
                        HoldsOldKey = preview.HoldsOldKey,
                    },
                };
            });
        }
        return Step(request.StepId, () =>
        {
            try
            {
                var installer = new Pki.Rekey.RekeyInstaller(TimeProvider.System);
                if (stage == Pki.Rekey.RekeyStage.Trust)
                {
                    Scan(root, inventory => installer.Split(inventory, pairs));
                }
                var result = Scan(root, inventory => (Applied: installer.Apply(inventory, stage, pairs), Units: Pki.Rekey.RekeyInstaller.StageUnits(inventory, stage, pairs)));
                var answer = new StepResult { StepId = request.StepId, Ok = true, Message = $"{result.Applied.ChangedFiles.Count} files changed", BackupDirectory = result.Applied.BackupDirectory ?? "" };
                answer.ChangedFiles.AddRange(result.Applied.ChangedFiles);
                answer.UnitsToRestart.AddRange(result.Units);
                return answer;
            }
            catch (PkiException e)
            {
                return new StepResult { StepId = request.StepId, Ok = false, Message = e.Message };
            }
        });
    }

    private CsrResponse Csrs(string node, NodeRoot root, CsrRequest request) => Scan(root, inventory =>
    {
        var response = new CsrResponse();
        if (request.ProbeForStep.Length > 0)
        {
            using var probe = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
            response.Csrs.Add(new GeneratedCsr
            {
                Fingerprint = "probe",
                CsrDer = ByteString.CopyFrom(new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=probe", probe,
                    System.Security.Cryptography.HashAlgorithmName.SHA256).CreateSigningRequest()),
            });
            return response;
        }
        foreach (var fingerprint in request.Fingerprints)
        {
            var entry = inventory.Certificates.FirstOrDefault(e => e.Certificate.Sha256Fingerprint == fingerprint && e.Key is not null);
            response.Csrs.Add(entry is null
                ? new GeneratedCsr { Fingerprint = fingerprint, Error = "no certificate with its key on this node" }
                : new GeneratedCsr { Fingerprint = fingerprint, CsrDer = ByteString.CopyFrom(Csr(node, entry)) });
        }
        return response;
    });

    private byte[] Csr(string node, CertificateEntry entry)
    {
        var csr = CertificateRequestBuilder.FromExistingCertificate(entry.Certificate, entry.Key!);
        return TamperCsr is { } tamper ? tamper(node, entry, csr) : csr;
    }

    private AgentMessage Step(string stepId, Func<StepResult> run)
    {
        _sentSteps.AddOrUpdate(stepId, 1, (_, n) => n + 1);
        var result = _journal.GetOrAdd(stepId, _ => run());
        return new AgentMessage { StepResult = result };
    }

    private async Task<AgentMessage> InstallStepAsync(string node, NodeRoot root, InstallRequest request, CancellationToken cancellationToken)
    {
        var answer = Step(request.StepId, () => Install(root, request));
        if (AfterInstall is { } after)
        {
            await after(node, cancellationToken);
        }
        return answer;
    }

    private static StepResult Install(NodeRoot root, InstallRequest request) => Scan(root, inventory =>
    {
        try
        {
            var replacements = request.Replacements.ToDictionary(
                r => r.OldFingerprint, r => CertificateInfo.Parse(r.CertificateDer.Span, "replacement"), StringComparer.Ordinal);
            var installed = new CertificateInstaller(TimeProvider.System).Install(inventory, replacements);
            var result = new StepResult { StepId = request.StepId, Ok = true, Message = $"{installed.ChangedFiles.Count} files changed", BackupDirectory = installed.BackupDirectory ?? "" };
            result.ChangedFiles.AddRange(installed.ChangedFiles);
            result.UnitsToRestart.AddRange(installed.UnitsToRestart);
            return result;
        }
        catch (PkiException e)
        {
            return new StepResult { StepId = request.StepId, Ok = false, Message = e.Message };
        }
    });

    private async Task<AgentMessage> RestartAsync(string node, RestartRequest request, CancellationToken cancellationToken)
    {
        _sentSteps.AddOrUpdate(request.StepId, 1, (_, n) => n + 1);
        if (_journal.TryGetValue(request.StepId, out var known))
        {
            return new AgentMessage { StepResult = known };
        }
        if (BeforeRestart is { } before)
        {
            await before(node, request.Unit, cancellationToken);
        }
        _restarts.Enqueue(new RecordedRestart(Interlocked.Increment(ref _ordinal), node, request.Unit, request.StepId, Rollback: false));
        var result = FailingGates.TryGetValue((node, request.Unit), out var probe)
            ? new StepResult { StepId = request.StepId, Ok = false, Message = $"{request.Unit} did not become healthy", ProbeOutput = probe }
            : new StepResult { StepId = request.StepId, Ok = true, Message = $"{request.Unit} restarted and healthy" };
        _journal[request.StepId] = result;
        return new AgentMessage { StepResult = result };
    }

    private StepResult Rollback(string node, NodeRoot root, RollbackRequest request)
    {
        var installed = _journal.GetValueOrDefault(request.InstallStepId);
        if (installed is { BackupDirectory.Length: > 0 })
        {
            BackupSet.Open(root, installed.BackupDirectory).RestoreAll();
        }
        foreach (var unit in request.Units)
        {
            _restarts.Enqueue(new RecordedRestart(Interlocked.Increment(ref _ordinal), node, unit, request.StepId, Rollback: true));
        }
        return new StepResult { StepId = request.StepId, Ok = true, Message = $"restored {installed?.BackupDirectory}" };
    }

    private static VerifyResponse Verify(NodeInventory inventory)
    {
        var report = new LocalVerifier(TimeProvider.System).Verify(inventory, TimeSpan.FromDays(1));
        var response = new VerifyResponse { Passed = report.Passed, CertificatesChecked = report.CertificatesChecked, UnitsChecked = report.UnitsChecked };
        response.Problems.AddRange(report.Problems.Select(p => new CertFleet.Protocol.V1.VerificationProblem { Path = p.Path, KubeconfigUser = p.KubeconfigUser ?? "", Unit = p.Unit ?? "", Problem = p.Problem }));
        return response;
    }
}
