using CertFleet.Coordinator.Audit;
using CertFleet.Coordinator.Fleet;
using CertFleet.Coordinator.Hosting;
using CertFleet.Coordinator.Rollouts;
using CertFleet.Coordinator.Signing;
using CertFleet.Coordinator.State;
using CertFleet.Pki.Authorities;
using CertFleet.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace CertFleet.Coordinator.Tests.Rollouts;

/// <summary>
/// A coordinator's rollout services over private copies of a fixture's nodes (masters and workers by name),
/// with fake agents that use the real engine. <see cref="Restart"/> builds a fresh set of services over the same
/// state directory, as a coordinator restart would.
/// </summary>
internal sealed class FleetTestbed : IDisposable
{
    private readonly Dictionary<string, NodeRole> _roles;
    private readonly bool _ownsState;

    private FleetTestbed(ClusterPkiFixture fixture, FakeTimeProvider time, CoordinatorOptions options, FakeAgentGateway gateway, Dictionary<string, NodeRole> roles, bool ownsState)
    {
        _ownsState = ownsState;
        Fixture = fixture;
        Time = time;
        Options = options;
        Gateway = gateway;
        _roles = roles;
        Inventory = new FakeFleetInventory(gateway, roles);
        Authorities = new ClusterAuthorities(options, NullLogger<ClusterAuthorities>.Instance);
        Policy = new SigningPolicy(Authorities);
        var database = new StateDatabase(options.StateDirectory);
        Audit = new AuditLog(database, time, NullLogger<AuditLog>.Instance);
        Signer = new RenewalSigner(Authorities, Policy, Audit, time, NullLogger<RenewalSigner>.Instance);
        Store = new RolloutStore(database);
        Planner = new RolloutPlanner(Inventory, Authorities, Policy, new RekeyPlanner(gateway, Authorities, Policy, time), time,
            NullLogger<RolloutPlanner>.Instance);
        var executor = new RolloutStepExecutor(gateway, Inventory, Authorities, Signer,
            new RekeyStepExecutor(gateway, Inventory, Authorities, Audit, options, time), Store, Audit, options, time);
        Runner = new RolloutRunner(Store, executor, Audit, time, NullLogger<RolloutRunner>.Instance);
        var rollback = new RolloutRollback(Store, executor, Audit, time, NullLogger<RolloutRollback>.Instance);
        Admin = new RolloutAdmin(Planner, Store, Runner, rollback, Authorities, gateway, Inventory, Audit, time, NullLogger<RolloutAdmin>.Instance);
    }

    public ClusterPkiFixture Fixture { get; }

    public FakeTimeProvider Time { get; }

    public CoordinatorOptions Options { get; }

    public FakeAgentGateway Gateway { get; }

    public FakeFleetInventory Inventory { get; }

    public ClusterAuthorities Authorities { get; }

    public SigningPolicy Policy { get; }

    public RenewalSigner Signer { get; }

    public AuditLog Audit { get; }

    public RolloutStore Store { get; }

    public RolloutPlanner Planner { get; }

    public RolloutRunner Runner { get; }

    public RolloutAdmin Admin { get; }

    /// <param name="authorities">the CA files the coordinator gets, from master-1 of the fixture: "ca", "front-proxy-ca"</param>
    public static FleetTestbed Create(ClusterPkiFixture fixture, string[]? authorities = null, Func<CoordinatorOptions, CoordinatorOptions>? configure = null)
    {
        var nodes = Directory.GetDirectories(fixture.Directory).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToList();
        var copies = nodes.ToDictionary(n => n, fixture.CopyNode, StringComparer.Ordinal);
        var roles = nodes.ToDictionary(n => n, n => n.StartsWith("master", StringComparison.Ordinal) ? NodeRole.Master : NodeRole.Worker, StringComparer.Ordinal);
        var pki = Path.Combine(fixture.NodeRoot(nodes.First(n => roles[n] == NodeRole.Master)), "etc", "kubernetes", "pki");
        var options = new CoordinatorOptions
        {
            Listen = "127.0.13.1:0",
            StateDirectory = ScratchDirectory.Create("coordinator-state"),
            ClusterAuthorities = (authorities ?? ["ca", "front-proxy-ca"])
                .Select(name => new ClusterAuthorityFiles(Path.Combine(pki, name + ".crt"), Path.Combine(pki, name + ".key"))).ToList(),
            StepTimeout = TimeSpan.FromSeconds(10),
        };
        options = configure?.Invoke(options) ?? options;
        return new FleetTestbed(fixture, new FakeTimeProvider(DateTimeOffset.UtcNow), options, new FakeAgentGateway(copies), roles, ownsState: true);
    }

    /// <summary>A new coordinator process: fresh services over the same state directory, nodes and agents.</summary>
    public FleetTestbed Restart() => new(Fixture, Time, Options, Gateway, _roles, ownsState: false);

    /// <summary>Runs the running rollout until it completes or halts, within a time limit.</summary>
    public async Task RunAsync()
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await Runner.RunUnfinishedAsync(limit.Token);
    }

    public string HostPath(string node, string pathOnNode) => Gateway.NodeDirectories[node] + pathOnNode;

    public void Dispose()
    {
        Authorities.Dispose();
        Runner.Dispose();
        if (_ownsState)
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            ScratchDirectory.Delete(Options.StateDirectory);
        }
    }
}
