using CertFleet.Coordinator.Fleet;
using CertFleet.Coordinator.Hosting;
using CertFleet.Coordinator.Rollouts;
using CertFleet.Coordinator.Tests.Rollouts;
using CertFleet.Coordinator.Tests.Support;
using CertFleet.Pki.Authorities;
using CertFleet.Protocol.V1;
using CertFleet.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CertFleet.Coordinator.Tests.Monitoring;

/// <summary>
/// A real coordinator with notifications set by the test, over master-1 and worker-1 of a fixture whose leaves expire in
/// 10 days (due), answered by <see cref="FakeAgentGateway"/> on private copies of the node folders, so a real rollout
/// renews them; the state is read for notifications every 200 ms.
/// </summary>
internal sealed class NotifiedFleet : IAsyncDisposable
{
    public static readonly string[] Nodes = ["master-1", "worker-1"];

    private readonly FakeFleetInventory _inventory;

    private NotifiedFleet(TestCoordinator coordinator, FakeAgentGateway gateway, FakeFleetInventory inventory)
    {
        Coordinator = coordinator;
        Gateway = gateway;
        _inventory = inventory;
    }

    public TestCoordinator Coordinator { get; }

    public FakeAgentGateway Gateway { get; }

    public IRolloutAdmin Admin => Coordinator.Services.GetRequiredService<IRolloutAdmin>();

    public static async Task<NotifiedFleet> StartAsync(ClusterPkiFixture fixture, string listen, Func<CoordinatorOptions, CoordinatorOptions> notify)
    {
        var copies = Nodes.ToDictionary(n => n, fixture.CopyNode, StringComparer.Ordinal);
        var roles = Nodes.ToDictionary(n => n, n => n.StartsWith("master", StringComparison.Ordinal) ? NodeRole.Master : NodeRole.Worker, StringComparer.Ordinal);
        var gateway = new FakeAgentGateway(copies);
        var inventory = new FakeFleetInventory(gateway, roles);
        var pki = Path.Combine(copies["master-1"], "etc", "kubernetes", "pki");
        var coordinator = await TestCoordinator.StartAsync(listen,
            configure: services => services.AddSingleton<IAgentGateway>(gateway).AddSingleton<IFleetInventory>(inventory),
            authorities: [new ClusterAuthorityFiles(Path.Combine(pki, "ca.crt"), Path.Combine(pki, "ca.key")),
                new ClusterAuthorityFiles(Path.Combine(pki, "front-proxy-ca.crt"), Path.Combine(pki, "front-proxy-ca.key"))],
            adjust: options => notify(options with { NotifyInterval = TimeSpan.FromMilliseconds(200), NotifyRetryDelay = TimeSpan.FromMilliseconds(100) }));
        var fleet = new NotifiedFleet(coordinator, gateway, inventory);
        await fleet.ReportAsync();
        return fleet;
    }

    /// <summary>Every node reports its files as they are now, as agents do after an install.</summary>
    public async Task ReportAsync()
    {
        foreach (var node in Nodes)
        {
            await _inventory.RefreshAsync(node, CancellationToken.None);
        }
    }

    /// <summary>`certfleet renew --all --wait`, then every node reports again.</summary>
    public async Task<Rollout> RenewAllAsync()
    {
        var started = await Admin.StartAsync(new RolloutRequest { All = true }, automatic: false, CancellationToken.None);
        await Eventually.True(async () => (await Admin.GetAsync(started.Id, CancellationToken.None)).State != RolloutState.Running,
            "the rollout ends", TimeSpan.FromMinutes(2));
        await ReportAsync();
        return await Admin.GetAsync(started.Id, CancellationToken.None);
    }

    public ValueTask DisposeAsync() => Coordinator.DisposeAsync();
}
