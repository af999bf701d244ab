using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CertFleet.Coordinator.Audit;
using CertFleet.Coordinator.Fleet;
using CertFleet.Coordinator.Rollouts;
using CertFleet.Coordinator.Tests.Metrics;
using CertFleet.Coordinator.Tests.Rollouts;
using CertFleet.Coordinator.Tests.Support;
using CertFleet.Pki.Files;
using CertFleet.Pki.Inventory;
using CertFleet.Protocol.V1;
using CertFleet.Testing;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;

namespace CertFleet.Coordinator.Tests.Monitoring;

/// <summary>
/// A real coordinator with its /metrics on ADDRESS:9100 and agents on real Connect streams, in one of two states the
/// shipped alert rules and dashboard are tried on. <see cref="DueAsync"/>: everything the rules watch for at once:
/// master-1 reports certificates due (the fixture's leaves expire in 10 days) and one not valid for two more days,
/// worker-1 reports six unreadable files in every report, worker-2's agent has gone, a rollout is halted and the
/// signing policy has refused a renewal. <see cref="HealthyAsync"/>: every agent connected, no error, certificates
/// valid for a year, no rollout, no refusal.
/// </summary>
internal sealed class MonitoredFleet : IAsyncDisposable
{
    public const string NotYetValidPath = "/etc/kubernetes/pki/issued-tomorrow.crt";
    public const int ErrorsPerReport = 6;

    private readonly List<TestAgent> _agents = [];

    private MonitoredFleet(TestCoordinator coordinator, string address)
    {
        Coordinator = coordinator;
        Address = address;
    }

    public TestCoordinator Coordinator { get; }

    /// <summary>The loopback address; /metrics is on port 9100 there.</summary>
    public string Address { get; }

    /// <summary>Nodes whose agent hung up.</summary>
    public HashSet<string> Disconnected { get; } = new(StringComparer.Ordinal);

    /// <summary>Errors in each of a node's reports (nodes without errors are not listed).</summary>
    public Dictionary<string, int> ReportErrors { get; } = new(StringComparer.Ordinal);

    public string MetricsUrl => $"http://{Address}:9100/metrics";

    public static async Task<MonitoredFleet> DueAsync(ClusterPkiFixture fixture, string address)
    {
        var fleet = await StartAsync(address);
        var master = Scan(fixture, "master-1");
        master.Certificates.Add(new ReportedCertificate { Path = NotYetValidPath, Der = ByteString.CopyFrom(IssuedTomorrow()) });
        await fleet.ConnectAsync("master-1", "master", master);
        var worker1 = Scan(fixture, "worker-1");
        for (var i = 0; i < ErrorsPerReport; i++)
        {
            worker1.Errors.Add(new ReportedError { Path = $"/etc/kubernetes/pki/unreadable-{i}.pem", Message = "permission denied" });
        }
        fleet.ReportErrors["worker-1"] = ErrorsPerReport;
        await fleet.ConnectAsync("worker-1", "worker", worker1);
        var worker2 = await fleet.ConnectAsync("worker-2", "worker", Scan(fixture, "worker-2"));
        await fleet.WaitForReportsAsync();
        worker2.HangUp();
        fleet.Disconnected.Add("worker-2");
        var inventory = fleet.Coordinator.Services.GetRequiredService<IFleetInventory>();
        await Eventually.True(() => !inventory.Find("worker-2")!.Connected, "worker-2 shows as disconnected");

        var now = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow);
        fleet.Coordinator.Services.GetRequiredService<RolloutStore>().Create(new Rollout
        {
            Id = "r-20261206-000000-halt", State = RolloutState.Halted, CreatedAt = now, Request = new RolloutRequest { All = true },
            Steps = { new RolloutStep { Sequence = 1, Batch = 1, Kind = StepKind.Restart, Node = "master-1", Unit = "etcd.service", State = StepState.Failed } },
        }, []);
        fleet.Coordinator.Services.GetRequiredService<AuditLog>().Append(new AuditRecord(AuditKinds.Refused, "coordinator")
        {
            Node = "worker-1", Path = "/etc/kubernetes/pki/foreign.crt", Reason = "not issued by any of the coordinator's CAs",
        });
        return fleet;
    }

    public static async Task<MonitoredFleet> HealthyAsync(ClusterPkiFixture fixture, string address)
    {
        var fleet = await StartAsync(address);
        await fleet.ConnectAsync("master-1", "master", Scan(fixture, "master-1"));
        await fleet.ConnectAsync("worker-1", "worker", Scan(fixture, "worker-1"));
        await fleet.WaitForReportsAsync();
        return fleet;
    }

    public Task<IReadOnlyList<Sample>> ScrapeAsync() => MetricsScrape.SamplesAsync(Address);

    public async ValueTask DisposeAsync()
    {
        foreach (var agent in _agents)
        {
            await agent.DisposeAsync();
        }
        await Coordinator.DisposeAsync();
    }

    private static async Task<MonitoredFleet> StartAsync(string address) =>
        new(await TestCoordinator.StartAsync($"{address}:7443", metricsListen: $"{address}:9100"), address);

    private async Task<TestAgent> ConnectAsync(string node, string role, InventoryReport report)
    {
        var token = await Coordinator.Admin().CreateTokenAsync(new CreateTokenRequest { Node = node, Role = role },
            deadline: DateTime.UtcNow.AddSeconds(20));
        using var identity = await AgentIdentity.EnrollAsync(Coordinator.Agent(), token.Token, node);
        var agent = await TestAgent.ConnectAsync(Coordinator.Agent(identity), node, report,
            request => request.BodyCase == CoordinatorMessage.BodyOneofCase.InventoryRequest ? new AgentMessage { Inventory = report } : null);
        _agents.Add(agent);
        return agent;
    }

    private Task WaitForReportsAsync()
    {
        var inventory = Coordinator.Services.GetRequiredService<IFleetInventory>();
        return Eventually.True(() => inventory.Nodes().All(n => n.LastReport is not null), "every agent reported");
    }

    private static InventoryReport Scan(ClusterPkiFixture fixture, string node)
    {
        using var scanned = new NodeScanner(TimeProvider.System).Scan(new NodeRoot(fixture.NodeRoot(node)));
        return InventoryReports.From(scanned);
    }

    /// <summary>A certificate whose notBefore is two days ahead, as a node with a wrong clock would have signed.</summary>
    private static byte[] IssuedTomorrow()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=issued-tomorrow", key, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(2), DateTimeOffset.UtcNow.AddDays(365));
        return certificate.RawData;
    }
}
