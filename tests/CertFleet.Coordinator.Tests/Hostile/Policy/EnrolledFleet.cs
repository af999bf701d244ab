using System.Security.Cryptography.X509Certificates;
using CertFleet.Coordinator.Hosting;
using CertFleet.Coordinator.Tests.Rollouts;
using CertFleet.Coordinator.Tests.Support;
using CertFleet.Pki.Authorities;
using CertFleet.Protocol.V1;
using CertFleet.Testing;
using Grpc.Core;

namespace CertFleet.Coordinator.Tests.Hostile.Policy;

/// <summary>
/// A real coordinator (the cluster CA of the fixture's master-1) and nodes enrolled with real tokens and roles, each a
/// <see cref="TestAgent"/> on a real Connect stream that answers like the real agent on a private copy of its node
/// folder (the engine of <see cref="FakeAgentGateway"/>), unless <see cref="Tamper"/> answers for it: a hostile node.
/// </summary>
internal sealed class EnrolledFleet : IAsyncDisposable
{
    private readonly List<TestAgent> _agents = [];
    private readonly List<X509Certificate2> _identities = [];

    private EnrolledFleet(TestCoordinator coordinator, FakeAgentGateway engine)
    {
        Coordinator = coordinator;
        Engine = engine;
        Admin = coordinator.Admin();
    }

    public TestCoordinator Coordinator { get; }

    public AdminService.AdminServiceClient Admin { get; }

    /// <summary>The node folders and what was done on them (restarts recorded in order).</summary>
    public FakeAgentGateway Engine { get; }

    /// <summary>(node, request, honest answer) to the answer sent; the honest one by default.</summary>
    public Func<string, CoordinatorMessage, AgentMessage, AgentMessage> Tamper { get; set; } = (_, _, honest) => honest;

    /// <summary>Every request each node was sent, in order.</summary>
    public Dictionary<string, TestAgent> Agents { get; } = new(StringComparer.Ordinal);

    /// <param name="nodes">node name to role ("master" or "worker")</param>
    public static async Task<EnrolledFleet> StartAsync(ClusterPkiFixture fixture, string listen, IReadOnlyDictionary<string, string> nodes)
    {
        var copies = nodes.Keys.ToDictionary(n => n, fixture.CopyNode, StringComparer.Ordinal);
        var pki = Path.Combine(fixture.NodeRoot("master-1"), "etc", "kubernetes", "pki");
        var coordinator = await TestCoordinator.StartAsync(listen,
            authorities: [new ClusterAuthorityFiles(Path.Combine(pki, "ca.crt"), Path.Combine(pki, "ca.key"))]);
        var fleet = new EnrolledFleet(coordinator, new FakeAgentGateway(copies));
        foreach (var (node, role) in nodes)
        {
            await fleet.EnrollAsync(node, role);
        }
        await Eventually.True(async () => (await fleet.Admin.GetStatusAsync(new StatusRequest(), deadline: Deadline())).Nodes
            .Count(n => n.Connected && n.LastReport is not null) == nodes.Count, "every node reported");
        return fleet;
    }

    public static DateTime Deadline() => DateTime.UtcNow.AddSeconds(30);

    /// <summary>Waits until the rollout is no longer running and returns it.</summary>
    public async Task<Rollout> SettledAsync(string id)
    {
        Rollout rollout = null!;
        await Eventually.True(async () =>
        {
            rollout = await Admin.GetRolloutAsync(new RolloutId { Id = id }, deadline: Deadline());
            return rollout.State != RolloutState.Running;
        }, $"rollout {id} stops running", TimeSpan.FromMinutes(2));
        return rollout;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var agent in _agents)
        {
            await agent.DisposeAsync();
        }
        foreach (var identity in _identities)
        {
            identity.Dispose();
        }
        await Coordinator.DisposeAsync();
    }

    private async Task EnrollAsync(string node, string role)
    {
        var token = await Admin.CreateTokenAsync(new CreateTokenRequest { Node = node, Role = role }, deadline: Deadline());
        var identity = await AgentIdentity.EnrollAsync(Coordinator.Agent(), token.Token, node);
        _identities.Add(identity);
        var agent = await TestAgent.ConnectAsync(Coordinator.Agent(identity), node, Answer(node, new CoordinatorMessage { InventoryRequest = new() }).Inventory,
            request => Answer(node, request));
        _agents.Add(agent);
        Agents[node] = agent;
    }

    private AgentMessage Answer(string node, CoordinatorMessage request)
    {
        // TestAgent serves its stream on its own task, one request at a time: waiting here blocks nothing else
        var honest = Engine.SendAsync(node, request, TimeSpan.FromSeconds(30), CancellationToken.None).GetAwaiter().GetResult();
        return Tamper(node, request, honest);
    }

    /// <summary>The status code and message of a refused admin call.</summary>
    public static async Task<(StatusCode Code, string Detail)> RefusalAsync(Func<Task> call)
    {
        var error = await Assert.ThrowsAsync<RpcException>(call);
        return (error.StatusCode, error.Status.Detail);
    }
}
