using CertFleet.Coordinator.Fleet;
using CertFleet.Coordinator.Hosting;
using CertFleet.Coordinator.Rollouts;
using CertFleet.Coordinator.Signing;
using CertFleet.Coordinator.Tests.Rollouts;
using CertFleet.Coordinator.Tests.Support;
using CertFleet.Pki.Authorities;
using CertFleet.Pki.Files;
using CertFleet.Pki.Inventory;
using CertFleet.Protocol.V1;
using CertFleet.Testing;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CertFleet.Coordinator.Tests.Logging;

/// <summary>
/// The coordinator's Information lines during enrollment, reports, a small rollout and a refusal: one structured line
/// per decision, nothing per heartbeat, no secrets. Coordinator on 127.0.20.4:7443.
/// </summary>
public sealed class DecisionLogTests(EcClusterPkiFixture fixture) : IClassFixture<EcClusterPkiFixture>
{
    [Fact]
    public async Task Log_EnrollReportRolloutAndRefusal_OneInformationLinePerDecision()
    {
        var copies = new[] { "master-1", "worker-1" }.ToDictionary(n => n, fixture.CopyNode, StringComparer.Ordinal);
        var gateway = new FakeAgentGateway(copies);
        var inventory = new FakeFleetInventory(gateway, new Dictionary<string, NodeRole> { ["master-1"] = NodeRole.Master, ["worker-1"] = NodeRole.Worker });
        var pki = Path.Combine(copies["master-1"], "etc", "kubernetes", "pki");
        var log = new CapturedLog();
        await using var coordinator = await TestCoordinator.StartAsync("127.0.20.4:7443",
            configure: services =>
            {
                services.AddSingleton<ILoggerProvider>(log);
                services.AddSingleton<IAgentGateway>(gateway);
                services.AddSingleton<IFleetInventory>(inventory);
            },
            authorities: [new ClusterAuthorityFiles(Path.Combine(pki, "ca.crt"), Path.Combine(pki, "ca.key"))]);

        // a real agent enrolls, reports once and sends heartbeats
        var token = await coordinator.Admin().CreateTokenAsync(new CreateTokenRequest { Node = "worker-9", Role = "worker" }, deadline: DateTime.UtcNow.AddSeconds(20));
        using var identity = await AgentIdentity.EnrollAsync(coordinator.Agent(), token.Token, "worker-9");
        using var scanned = new NodeScanner(TimeProvider.System).Scan(new NodeRoot(fixture.NodeRoot("worker-1")));
        var report = InventoryReports.From(scanned);
        await using (var agent = await TestAgent.ConnectAsync(coordinator.Agent(identity), "worker-9", report, _ => null))
        {
            for (var i = 0; i < 3; i++)
            {
                await agent.SendAsync(new AgentMessage { Heartbeat = new Heartbeat { SentAt = Timestamp.FromDateTime(DateTime.UtcNow) } });
            }
            await Eventually.True(() => Information(log, 303).Count == 1, "the report is logged");
            await Task.Delay(200); // heartbeats sent after the report have had time to be (not) logged
        }
        await Eventually.True(() => Information(log, 301).Count > 0, "the disconnection is logged");

        // a small rollout through fake agents on real node folders
        var admin = coordinator.Services.GetRequiredService<IRolloutAdmin>();
        var started = await admin.StartAsync(new RolloutRequest { All = true }, automatic: false, CancellationToken.None);
        // the line comes just after the state changes: wait for the line, not the state
        await Eventually.True(() => Information(log, 3018).Count + Information(log, 3017).Count > 0, "the rollout's end is logged", TimeSpan.FromMinutes(2));
        var rollout = await admin.GetAsync(started.Id, CancellationToken.None);

        // a renewal the policy refuses
        var record = inventory.Find("worker-1")!;
        var signer = coordinator.Services.GetRequiredService<RenewalSigner>();
        Assert.Throws<SigningRefusedException>(() => signer.Sign(record, record.Inventory!.Certificates[0], [0x30, 0x00], TimeSpan.FromDays(365)));

        Assert.Equal(RolloutState.Completed, rollout.State);
        Assert.Equal("worker-9", Assert.Single(Information(log, 200)).Property("Node"));
        var reported = Assert.Single(Information(log, 303));
        Assert.Equal("worker-9", reported.Property("Node"));
        Assert.Equal(report.Certificates.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), reported.Property("Certificates"));
        // connected, report, disconnected: nothing for the heartbeats
        Assert.Equal([300, 303, 301], Information(log).Where(l => l.Category.EndsWith(".AgentSessions", StringComparison.Ordinal)).Select(l => l.EventId));

        var plan = Assert.Single(Information(log, 3020));
        Assert.Equal(rollout.Id, plan.Property("Rollout"));
        Assert.Equal(rollout.Steps.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), plan.Property("Steps"));
        Assert.Equal(rollout.Refused.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), plan.Property("Refused"));
        foreach (var step in rollout.Steps)
        {
            var sequence = step.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture);
            Assert.Single(Information(log, 3011), l => l.Property("Sequence") == sequence);
            Assert.Single(Information(log, 3012), l => l.Property("Sequence") == sequence);
        }
        Assert.Equal(rollout.Id, Assert.Single(Information(log, 3018)).Property("Rollout"));
        // front-proxy-client: its CA was not given to the coordinator, so the plan refuses it
        Assert.NotEmpty(rollout.Refused);
        Assert.Equal(
            rollout.Refused.Select(r => $"{r.Node} {r.Path} {r.Reason}").Order(StringComparer.Ordinal),
            Information(log, 3023).Select(l => $"{l.Property("Node")} {l.Property("Path")} {l.Property("Reason")}").Order(StringComparer.Ordinal));
        var refusal = Assert.Single(Information(log, 2011));
        Assert.Equal("worker-1", refusal.Property("Node"));
        Assert.Equal(record.Inventory!.Certificates[0].Path, refusal.Property("Path"));
        Assert.NotEmpty(refusal.Property("Reason"));

        // the audit echo and the planner's preview line would say each decision twice
        Assert.Empty(Information(log, 4001));
        Assert.Empty(Information(log, 3001));
        Assert.All(log.Lines, l => Assert.DoesNotContain(token.Token, l.Message, StringComparison.Ordinal));
        Assert.All(log.Lines, l => Assert.DoesNotContain("PRIVATE KEY", l.Message, StringComparison.Ordinal));
    }

    private static List<LogLine> Information(CapturedLog log, int? eventId = null) =>
        log.Lines.Where(l => l.Level >= LogLevel.Information && l.Category.StartsWith("CertFleet", StringComparison.Ordinal)
            && (eventId is null || l.EventId == eventId)).ToList();
}
