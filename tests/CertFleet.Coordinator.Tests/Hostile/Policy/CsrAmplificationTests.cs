using CertFleet.Coordinator.Audit;
using CertFleet.Coordinator.Hosting;
using CertFleet.Coordinator.Rollouts;
using CertFleet.Coordinator.Tests.Rollouts;
using CertFleet.Coordinator.Tests.Support;
using CertFleet.Pki.Authorities;
using CertFleet.Pki.Files;
using CertFleet.Pki.Inventory;
using CertFleet.Pki.Signing;
using CertFleet.Protocol.V1;
using CertFleet.Testing;
using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;

namespace CertFleet.Coordinator.Tests.Hostile.Policy;

/// <summary>
/// A hostile agent with worker-1's real identity, on a real Connect stream to a real coordinator (127.0.57.7:7443),
/// answers the rollout's CSR request with 1,000 copies of one CSR and CSRs for certificates nobody asked for. The
/// coordinator signs each certificate it asked for once, and says once what it ignored.
/// </summary>
public sealed class CsrAmplificationTests(EcClusterPkiFixture fixture) : IClassFixture<EcClusterPkiFixture>
{
    private const int Copies = 1000;

    [Fact]
    public async Task Install_AnswerWithAThousandCopiesAndUnaskedFingerprints_OneIssuancePerAskedCertificate()
    {
        var pki = Path.Combine(fixture.CopyNode("master-1"), "etc", "kubernetes", "pki");
        await using var coordinator = await TestCoordinator.StartAsync("127.0.57.7:7443",
            authorities: [new ClusterAuthorityFiles(Path.Combine(pki, "ca.crt"), Path.Combine(pki, "ca.key"))]);
        var token = await coordinator.Admin().CreateTokenAsync(new CreateTokenRequest { Node = "worker-1", Role = "worker" },
            deadline: DateTime.UtcNow.AddSeconds(20));
        using var identity = await AgentIdentity.EnrollAsync(coordinator.Agent(), token.Token, "worker-1");
        using var scanned = new NodeScanner(TimeProvider.System).Scan(new NodeRoot(fixture.NodeRoot("worker-1")));
        var report = InventoryReports.From(scanned);
        var unasked = scanned.Certificates.First(e => e.Certificate.IsCa).Certificate.Sha256Fingerprint;
        var asked = new List<string>();

        await using var agent = await TestAgent.ConnectAsync(coordinator.Agent(identity), "worker-1", report, message => message.BodyCase switch
        {
            CoordinatorMessage.BodyOneofCase.InventoryRequest => new AgentMessage { Inventory = report },
            CoordinatorMessage.BodyOneofCase.CsrRequest => new AgentMessage { Csrs = Amplified(scanned, message.CsrRequest, unasked, asked) },
            CoordinatorMessage.BodyOneofCase.Install => Done(message.Install.StepId),
            CoordinatorMessage.BodyOneofCase.Restart => Done(message.Restart.StepId),
            _ => null,
        });
        var fleet = coordinator.Services.GetRequiredService<CertFleet.Coordinator.Fleet.IFleetInventory>();
        await Eventually.True(() => fleet.Find("worker-1")?.Inventory is not null, "worker-1's report is stored");
        var admin = coordinator.Services.GetRequiredService<IRolloutAdmin>();
        var started = await admin.StartAsync(new RolloutRequest { All = true }, automatic: false, CancellationToken.None);
        await Eventually.True(async () => (await admin.GetAsync(started.Id, CancellationToken.None)).State != RolloutState.Running,
            "the rollout ends", TimeSpan.FromMinutes(3));

        var rollout = await admin.GetAsync(started.Id, CancellationToken.None);
        Assert.Equal(RolloutState.Completed, rollout.State);
        Assert.NotEmpty(asked);
        var audit = coordinator.Services.GetRequiredService<AuditLog>().Read("worker-1", null);
        var issued = audit.Where(e => e.Kind == AuditKinds.Issued).ToList();
        Assert.Equal(asked.Count, issued.Count);
        Assert.Equal(asked.Count, issued.Select(e => e.PreviousSerial).Distinct(StringComparer.Ordinal).Count());
        // the install carries one renewal per asked certificate, nothing for the rest
        var install = Assert.Single(agent.Received, m => m.BodyCase == CoordinatorMessage.BodyOneofCase.Install).Install;
        Assert.Equal(asked.Order(StringComparer.Ordinal), install.Replacements.Select(r => r.OldFingerprint).Order(StringComparer.Ordinal));
        // what was ignored is said once, with its numbers
        var ignored = Assert.Single(audit, e => e.Kind == AuditKinds.Refused);
        Assert.Contains($"{Copies - 1 + asked.Count - 1} duplicate", ignored.Reason, StringComparison.Ordinal);
        Assert.Contains("2 for certificates the coordinator did not ask for", ignored.Reason, StringComparison.Ordinal);
        Assert.Equal(started.Id, ignored.RolloutId);
    }

    /// <summary>What the hostile agent sends: 1,000 copies of the first asked CSR, two of every other, two unasked.</summary>
    private static CsrResponse Amplified(NodeInventory scanned, CsrRequest request, string unasked, List<string> asked)
    {
        var response = new CsrResponse();
        foreach (var fingerprint in request.Fingerprints)
        {
            asked.Add(fingerprint);
            var entry = scanned.Certificates.First(e => e.Certificate.Sha256Fingerprint == fingerprint && e.Key is not null);
            var csr = new GeneratedCsr
            {
                Fingerprint = fingerprint,
                CsrDer = ByteString.CopyFrom(CertificateRequestBuilder.FromExistingCertificate(entry.Certificate, entry.Key!)),
            };
            response.Csrs.Add(Enumerable.Repeat(csr, response.Csrs.Count == 0 ? Copies : 2));
        }
        var any = response.Csrs[0].CsrDer;
        response.Csrs.Add(new GeneratedCsr { Fingerprint = unasked, CsrDer = any }); // reported, but a CA: not asked
        response.Csrs.Add(new GeneratedCsr { Fingerprint = new string('A', 64), CsrDer = any }); // not on the node at all
        return response;
    }

    private static AgentMessage Done(string stepId) => new() { StepResult = new StepResult { StepId = stepId, Ok = true, Message = "done" } };
}
