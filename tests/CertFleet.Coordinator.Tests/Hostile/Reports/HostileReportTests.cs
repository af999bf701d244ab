using CertFleet.Coordinator.Fleet;
using CertFleet.Coordinator.Hosting;
using CertFleet.Coordinator.Tests.Metrics;
using CertFleet.Coordinator.Tests.Support;
using CertFleet.Pki.Authorities;
using CertFleet.Protocol.V1;
using CertFleet.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CertFleet.Coordinator.Tests.Hostile.Reports;

/// <summary>
/// A hostile agent holding worker-1's real identity reports certificates that are not DER X.509, against a real
/// coordinator on 127.0.131.1 (gRPC 7443, /metrics 9100) beside honest worker-2 and worker-3: the bad entries are
/// worker-1's errors, and every fleet view keeps working, and moving, for the others.
/// </summary>
public sealed class HostileReportTests(EcClusterPkiFixture fixture) : IClassFixture<EcClusterPkiFixture>
{
    private const string Address = "127.0.131.1";
    private const string BerPath = "/etc/kubernetes/pki/ber-not-der.crt";
    private const string ShortPath = "/etc/kubernetes/pki/four-bytes.crt";

    [Fact]
    public async Task Report_BerAndFourByteCertificates_AreThatNodesErrorsAndEveryFleetViewKeepsWorking()
    {
        var pki = Path.Combine(fixture.NodeRoot("master-1"), "etc", "kubernetes", "pki");
        await using var coordinator = await TestCoordinator.StartAsync($"{Address}:7443", metricsListen: $"{Address}:9100",
            authorities: [new ClusterAuthorityFiles(Path.Combine(pki, "ca.crt"), Path.Combine(pki, "ca.key"))]);
        var hostile = HostileReports.Honest(fixture, "worker-1");
        hostile.Certificates.Add(HostileReports.Entry(BerPath, HostileReports.BerNotDer(hostile.Certificates[0].Der.ToByteArray())));
        hostile.Certificates.Add(HostileReports.Entry(ShortPath, HostileReports.FourBytes));
        await using var worker1 = await ConnectAsync(coordinator, "worker-1", hostile);
        await using var worker2 = await ConnectAsync(coordinator, "worker-2", HostileReports.Honest(fixture, "worker-2"));
        await using var worker3 = await ConnectAsync(coordinator, "worker-3", HostileReports.Honest(fixture, "worker-2"));
        var fleet = coordinator.Services.GetRequiredService<IFleetInventory>();
        await Eventually.True(() => fleet.Nodes().Count(n => n.LastReport is not null) == 3, "every agent reported");

        var before = await MetricsScrape.SamplesAsync(Address);
        worker3.HangUp();
        await Eventually.True(() => !fleet.Find("worker-3")!.Connected, "worker-3 shows as disconnected");
        var after = await MetricsScrape.SamplesAsync(Address);
        var status = await coordinator.Admin().GetStatusAsync(new StatusRequest(), deadline: Deadline());
        var plan = await coordinator.Admin().PlanAsync(new RolloutRequest { All = true }, deadline: Deadline());

        // /metrics follows the fleet: worker-3's gauge moves, worker-2's certificates are there, the two bad entries count as read errors
        Assert.Equal(1, MetricsScrape.Value(before, "certfleet_node_connected", ("node", "worker-3")));
        Assert.Equal(0, MetricsScrape.Value(after, "certfleet_node_connected", ("node", "worker-3")));
        Assert.Equal(2, MetricsScrape.Value(after, "certfleet_agents_connected"));
        Assert.Contains(after, s => s.Name == "x509_cert_not_after" && s.Label("node") == "worker-2");
        Assert.Contains(after, s => s.Name == "x509_cert_not_after" && s.Label("node") == "worker-1");
        Assert.Equal(2, MetricsScrape.Value(after, "x509_read_errors"));
        Assert.DoesNotContain(after, s => s.Label("filepath") is BerPath or ShortPath);
        // status: worker-1's bad entries are its errors, named by path and reason, and never certificates
        var node1 = Assert.Single(status.Nodes, n => n.Name == "worker-1");
        Assert.DoesNotContain(node1.Certificates, c => c.Path is BerPath or ShortPath);
        Assert.Equal(hostile.Certificates.Count - 2, node1.Certificates.Count);
        Assert.Contains("not DER", Assert.Single(node1.Errors, e => e.Path == BerPath).Message, StringComparison.Ordinal);
        Assert.Contains("not a valid X.509 certificate", Assert.Single(node1.Errors, e => e.Path == ShortPath).Message, StringComparison.Ordinal);
        Assert.NotEmpty(Assert.Single(status.Nodes, n => n.Name == "worker-2").Certificates);
        // plan: worker-2's certificates are planned, the bad entries are nowhere in it
        Assert.Contains(plan.Certificates, c => c.Node == "worker-2");
        Assert.DoesNotContain(plan.Refused, r => r.Path is BerPath or ShortPath);
        Assert.DoesNotContain(plan.Certificates, c => c.Path is BerPath or ShortPath);
    }

    internal static async Task<TestAgent> ConnectAsync(TestCoordinator coordinator, string node, InventoryReport? report)
    {
        var token = await coordinator.Admin().CreateTokenAsync(new CreateTokenRequest { Node = node, Role = "worker" }, deadline: Deadline());
        using var identity = await AgentIdentity.EnrollAsync(coordinator.Agent(), token.Token, node);
        // answers every inventory request (a plan asks) with the same report, as an agent does
        return await TestAgent.ConnectAsync(coordinator.Agent(identity), node, report,
            request => request.BodyCase == CoordinatorMessage.BodyOneofCase.InventoryRequest && report is not null
                ? new AgentMessage { Inventory = report }
                : null);
    }

    internal static DateTime Deadline() => DateTime.UtcNow.AddSeconds(30);
}
