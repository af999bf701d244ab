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
using Microsoft.Extensions.DependencyInjection;

namespace CertFleet.Coordinator.Tests.Metrics;

/// <summary>
/// GET /metrics over real HTTP from a coordinator started with --metrics-listen, for a whole fixture fleet; each test
/// has its own coordinator on 127.0.20.x (ports 7443 gRPC, 9100 metrics).
/// </summary>
public sealed class FleetMetricsTests(EcClusterPkiFixture fixture) : IClassFixture<EcClusterPkiFixture>
{
    private static readonly string[] NodeNames = ["master-1", "master-2", "master-3", "worker-1", "worker-2"];

    [Fact]
    public async Task Metrics_FleetOfReportingAgents_EveryCertificateOnceWithExporterLabelsAsOpensslSeesIt()
    {
        await using var coordinator = await TestCoordinator.StartAsync("127.0.20.1:7443", metricsListen: "127.0.20.1:9100");
        var before = await ScrapeAsync("127.0.20.1");
        var agents = new Dictionary<string, TestAgent>(StringComparer.Ordinal);
        try
        {
            foreach (var node in NodeNames)
            {
                agents[node] = await ConnectAsync(coordinator, node, fixture.NodeRoot(node));
            }
            var fleet = coordinator.Services.GetRequiredService<IFleetInventory>();
            await Eventually.True(() => fleet.Nodes().Count(n => n.Connected && n.LastReport is not null) == NodeNames.Length, "every agent reported");

            var samples = await ScrapeAsync("127.0.20.1");

            Assert.Equal(0, Value(before, "certfleet_agents_connected"));
            Assert.Equal(NodeNames.Length, Value(samples, "certfleet_agents_connected"));
            Assert.Equal(NodeNames.Length, Value(samples, "certfleet_nodes"));
            Assert.Equal(0, Value(samples, "x509_read_errors"));
            Assert.DoesNotContain(before, s => s.Name.StartsWith("x509_cert_", StringComparison.Ordinal));
            foreach (var node in NodeNames)
            {
                Assert.Equal(1, Value(samples, "certfleet_node_connected", ("node", node)));
                Assert.InRange(Value(samples, "certfleet_node_report_age_seconds", ("node", node)), 0, 60);
                AssertCertificatesOf(node, fixture.NodeRoot(node), samples);
            }

            agents["worker-2"].HangUp();
            await Eventually.True(() => !fleet.Find("worker-2")!.Connected, "worker-2 shows as disconnected");
            var after = await ScrapeAsync("127.0.20.1");

            Assert.Equal(NodeNames.Length - 1, Value(after, "certfleet_agents_connected"));
            Assert.Equal(0, Value(after, "certfleet_node_connected", ("node", "worker-2")));
            // the last report stays the coordinator's view of the node while its agent is away
            AssertCertificatesOf("worker-2", fixture.NodeRoot("worker-2"), after);
        }
        finally
        {
            foreach (var agent in agents.Values)
            {
                await agent.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Metrics_RolloutRenewsTheFleet_OldSerialsGoneNewOnesShownAndRolloutCountersMove()
    {
        var copies = NodeNames.ToDictionary(n => n, fixture.CopyNode, StringComparer.Ordinal);
        var roles = NodeNames.ToDictionary(n => n, n => n.StartsWith("master", StringComparison.Ordinal) ? NodeRole.Master : NodeRole.Worker, StringComparer.Ordinal);
        var gateway = new FakeAgentGateway(copies);
        var inventory = new FakeFleetInventory(gateway, roles);
        var pki = Path.Combine(copies["master-1"], "etc", "kubernetes", "pki");
        await using var coordinator = await TestCoordinator.StartAsync("127.0.20.2:7443", metricsListen: "127.0.20.2:9100",
            configure: services =>
            {
                services.AddSingleton<IAgentGateway>(gateway);
                services.AddSingleton<IFleetInventory>(inventory);
            },
            authorities: [new ClusterAuthorityFiles(Path.Combine(pki, "ca.crt"), Path.Combine(pki, "ca.key"))]);
        foreach (var node in NodeNames)
        {
            await inventory.RefreshAsync(node, CancellationToken.None);
        }
        var before = await ScrapeAsync("127.0.20.2");
        var oldApiserver = Assert.Single(Series(before, "x509_cert_not_after", "master-1", "/etc/kubernetes/pki/apiserver.crt"));

        var admin = coordinator.Services.GetRequiredService<IRolloutAdmin>();
        var started = await admin.StartAsync(new RolloutRequest { All = true }, automatic: false, CancellationToken.None);
        await Eventually.True(async () => (await admin.GetAsync(started.Id, CancellationToken.None)).State != RolloutState.Running,
            "the rollout ends", TimeSpan.FromMinutes(2));
        var rollout = await admin.GetAsync(started.Id, CancellationToken.None);
        foreach (var node in NodeNames)
        {
            // what each agent does after an install: report again
            await inventory.RefreshAsync(node, CancellationToken.None);
        }
        var after = await ScrapeAsync("127.0.20.2");

        Assert.Equal(RolloutState.Completed, rollout.State);
        Assert.Equal(0, Value(before, "certfleet_rollouts", ("state", "completed")));
        Assert.Equal(1, Value(after, "certfleet_rollouts", ("state", "completed")));
        Assert.Equal(0, Value(after, "certfleet_rollouts", ("state", "running")));
        Assert.Equal(rollout.Steps.Count, Value(after, "certfleet_rollout_steps", ("state", "succeeded")));
        Assert.Equal(0, Value(after, "certfleet_rollout_steps", ("state", "failed")));
        var newApiserver = Assert.Single(Series(after, "x509_cert_not_after", "master-1", "/etc/kubernetes/pki/apiserver.crt"));
        Assert.NotEqual(oldApiserver.Label("serial_number"), newApiserver.Label("serial_number"));
        Assert.DoesNotContain(after, s => s.Label("serial_number") == oldApiserver.Label("serial_number"));
        foreach (var node in NodeNames)
        {
            // every renewed file's new serial, and nothing else, as openssl reads the files now
            AssertCertificatesOf(node, copies[node], after);
        }
    }

    [Fact]
    public async Task Metrics_SigningRefused_RefusalCounterCountsIt()
    {
        await using var coordinator = await TestCoordinator.StartAsync("127.0.20.3:7443", metricsListen: "127.0.20.3:9100");
        await using var agent = await ConnectAsync(coordinator, "worker-1", fixture.NodeRoot("worker-1"));
        var fleet = coordinator.Services.GetRequiredService<IFleetInventory>();
        await Eventually.True(() => fleet.Find("worker-1")?.LastReport is not null, "worker-1 reported");
        var record = fleet.Find("worker-1")!;
        var before = await ScrapeAsync("127.0.20.3");

        var signer = coordinator.Services.GetRequiredService<RenewalSigner>();
        // no cluster CA configured: the policy refuses whatever is asked
        Assert.Throws<SigningRefusedException>(() => signer.Sign(record, record.Inventory!.Certificates[0], [0x30, 0x00], TimeSpan.FromDays(365)));
        var after = await ScrapeAsync("127.0.20.3");

        Assert.Equal(0, Value(before, "certfleet_signing_refusals_total"));
        Assert.Equal(1, Value(after, "certfleet_signing_refusals_total"));
        Assert.NotEmpty(Series(after, "x509_cert_not_after", "worker-1", "/etc/kubernetes/pki/worker-1.crt"));
    }

    /// <summary>Each certificate openssl finds in the node folder has exactly one series of each x509_cert_* metric with
    /// the exporter's labels and values, and the node has no other series.</summary>
    private void AssertCertificatesOf(string node, string nodeRoot, IReadOnlyList<Sample> samples)
    {
        var scratch = ScratchDirectory.Create("openssl-view");
        try
        {
            var expected = OpensslView.Node(nodeRoot, scratch);
            Assert.NotEmpty(expected);
            foreach (var metric in new[] { "x509_cert_not_after", "x509_cert_not_before", "x509_cert_expired" })
            {
                var series = samples.Where(s => s.Name == metric && s.Label("node") == node).ToList();
                Assert.Equal(
                    expected.Select(e => $"{e.Path}|{e.EmbeddedKind}|{e.SerialDecimal}").Order(StringComparer.Ordinal),
                    series.Select(s => $"{s.Label("filepath")}|{s.Label("embedded_kind")}|{s.Label("serial_number")}").Order(StringComparer.Ordinal));
            }
            foreach (var certificate in expected)
            {
                var labels = $"{node} {certificate.Path} {certificate.EmbeddedKind} {certificate.EmbeddedKey}";
                var notAfter = Assert.Single(samples, s => s.Name == "x509_cert_not_after" && s.Label("node") == node
                    && s.Label("filepath") == certificate.Path && s.Label("serial_number") == certificate.SerialDecimal);
                Assert.Equal(certificate.NotAfter, notAfter.Value);
                Assert.Equal(Path.GetFileName(certificate.Path), notAfter.Label("filename"));
                Assert.True(certificate.SubjectCn == notAfter.Label("subject_CN"), $"subject_CN of {labels}");
                Assert.True(certificate.SubjectO == notAfter.Label("subject_O"), $"subject_O of {labels}");
                Assert.True(certificate.IssuerCn == notAfter.Label("issuer_CN"), $"issuer_CN of {labels}");
                if (certificate.EmbeddedKind == "user")
                {
                    Assert.Equal(certificate.EmbeddedKey, notAfter.Label("embedded_key"));
                }
                var sameSeries = samples.Where(s => s.Label("node") == node && s.Label("filepath") == certificate.Path
                    && s.Label("serial_number") == certificate.SerialDecimal).ToList();
                Assert.Equal(certificate.NotBefore, Assert.Single(sameSeries, s => s.Name == "x509_cert_not_before").Value);
                Assert.Equal(0, Assert.Single(sameSeries, s => s.Name == "x509_cert_expired").Value);
            }
        }
        finally
        {
            ScratchDirectory.Delete(scratch);
        }
    }

    private static async Task<TestAgent> ConnectAsync(TestCoordinator coordinator, string node, string nodeRoot)
    {
        var token = await coordinator.Admin().CreateTokenAsync(
            new CreateTokenRequest { Node = node, Role = node.StartsWith("master", StringComparison.Ordinal) ? "master" : "worker" },
            deadline: DateTime.UtcNow.AddSeconds(20));
        using var identity = await AgentIdentity.EnrollAsync(coordinator.Agent(), token.Token, node);
        using var scanned = new NodeScanner(TimeProvider.System).Scan(new NodeRoot(nodeRoot));
        return await TestAgent.ConnectAsync(coordinator.Agent(identity), node, InventoryReports.From(scanned), _ => null);
    }

    private static async Task<IReadOnlyList<Sample>> ScrapeAsync(string address)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var response = await http.GetAsync(new Uri($"http://{address}:9100/metrics"));
        response.EnsureSuccessStatusCode();
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
        var text = await response.Content.ReadAsStringAsync();
        LintWithPromtool(text);
        return Exposition.Parse(text);
    }

    /// <summary>Prometheus's own linter (Debian's prometheus package, which test.sh installs), beside the strict reader in <see cref="Exposition"/>.</summary>
    private static void LintWithPromtool(string text)
    {
        var result = ProcessRunner.Run("promtool", ["check", "metrics"], standardInput: text, timeout: TimeSpan.FromSeconds(30));
        Assert.True(result.ExitCode == 0 && result.Combined.Trim().Length == 0, $"promtool check metrics: {result.Combined}");
    }

    private static List<Sample> Series(IReadOnlyList<Sample> samples, string name, string node, string path) =>
        samples.Where(s => s.Name == name && s.Label("node") == node && s.Label("filepath") == path).ToList();

    private static double Value(IReadOnlyList<Sample> samples, string name, params (string Name, string Value)[] labels) =>
        Assert.Single(samples, s => s.Name == name && labels.All(l => s.Label(l.Name) == l.Value)).Value;
}
