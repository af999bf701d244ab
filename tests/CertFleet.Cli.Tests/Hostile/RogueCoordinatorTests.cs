using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CertFleet.Agent;
using CertFleet.Agent.Connection;
using CertFleet.Agent.Options;
using CertFleet.Coordinator.Enrollment;
using CertFleet.Coordinator.Fleet;
using CertFleet.Coordinator.Hosting;
using CertFleet.Coordinator.Identity;
using CertFleet.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace CertFleet.Cli.Tests.Hostile;

/// <summary>
/// A node's agent identity is never the coordinator. The real coordinator (127.0.49.1 and 127.0.0.1, own ports)
/// issues the identities; a <see cref="RogueCoordinator"/> then takes over its address with one of them, as a
/// compromised worker on the path would, and the real CLI and the real agent must refuse it before sending anything.
/// </summary>
public sealed class RogueCoordinatorTests : IAsyncLifetime
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);
    private readonly string _state = ScratchDirectory.Create("rogue-coordinator");
    private readonly string _agentState = ScratchDirectory.Create("rogue-agent");
    private readonly string _root = ScratchDirectory.Create("rogue-root");

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        ScratchDirectory.Delete(_state);
        ScratchDirectory.Delete(_agentState);
        ScratchDirectory.Delete(_root);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task TokenCreate_ServerPresentsAWorkersIdentity_RefusedBeforeTheAdminCredentialIsUsed()
    {
        const string listen = "127.0.49.1:7443";
        X509Certificate2 worker;
        X509Certificate2 fleetCa;
        await using (var coordinator = await Coordinator(listen))
        {
            var authority = coordinator.Services.GetRequiredService<FleetAuthority>();
            worker = Identity(authority, "worker-1");
            fleetCa = X509CertificateLoader.LoadCertificate(authority.Certificate.RawData);
        }
        await using var rogue = await RogueCoordinator.StartAsync(IPAddress.Parse("127.0.49.1"), 7443, worker, fleetCa);

        var (exitCode, output, error) = await Task.Run(() => CliRun.Invoke("--config", Path.Combine(_state, "admin.conf"),
            "token", "create", "--print-join-command"));

        Assert.Empty(rogue.Calls);
        Assert.NotEqual(0, exitCode);
        Assert.DoesNotContain("rogue", output, StringComparison.Ordinal);
        Assert.Contains("is not the coordinator", error, StringComparison.Ordinal);
        Assert.Contains("CN=worker-1", error, StringComparison.Ordinal);
        Assert.Contains("not a server certificate", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AgentConnect_ServerPresentsTheIdentityOfANodeNamedLocalhost_NeverSpeaksToIt()
    {
        var port = FreePort();
        X509Certificate2 impostor;
        X509Certificate2 fleetCa;
        await using (var coordinator = await Coordinator($"127.0.0.1:{port}"))
        {
            var authority = coordinator.Services.GetRequiredService<FleetAuthority>();
            var token = coordinator.Services.GetRequiredService<TokenStore>().Create("worker-2", NodeRole.Worker, null);
            var options = AgentOptions(new Uri($"https://localhost:{port}"), token.Secret, authority.CaHash);
            using (var agent = AgentHost.Build(options))
            {
                await agent.StartAsync().WaitAsync(Limit);
                await Eventually(() => coordinator.Services.GetRequiredService<AgentSessions>().IsConnected("worker-2"));
                await agent.StopAsync().WaitAsync(Limit);
            }
            // what a node enrolled as "localhost" would hold (enrollment now refuses that name: made directly here)
            impostor = Identity(authority, "localhost");
            fleetCa = X509CertificateLoader.LoadCertificate(authority.Certificate.RawData);
        }
        await using var rogue = await RogueCoordinator.StartAsync(IPAddress.Loopback, port, impostor, fleetCa);
        using var restarted = AgentHost.Build(AgentOptions(new Uri($"https://localhost:{port}"), null, null));

        await restarted.StartAsync().WaitAsync(Limit);
        await Task.Delay(TimeSpan.FromSeconds(3));
        await restarted.StopAsync().WaitAsync(Limit);

        Assert.Empty(rogue.Calls);
    }

    [Fact]
    public async Task AgentEnrollment_ServerPresentsTheIdentityOfANodeNamedLocalhostAndTheRealFleetCa_TokenNeverSent()
    {
        var port = FreePort();
        X509Certificate2 impostor;
        X509Certificate2 fleetCa;
        string caHash;
        await using (var coordinator = await Coordinator($"127.0.0.1:{port}"))
        {
            var authority = coordinator.Services.GetRequiredService<FleetAuthority>();
            impostor = Identity(authority, "localhost");
            fleetCa = X509CertificateLoader.LoadCertificate(authority.Certificate.RawData);
            caHash = authority.CaHash;
        }
        await using var rogue = await RogueCoordinator.StartAsync(IPAddress.Loopback, port, impostor, fleetCa);
        using var agent = AgentHost.Build(AgentOptions(new Uri($"https://localhost:{port}"), "secret.token", caHash));
        var exit = agent.Services.GetRequiredService<AgentExit>();

        await agent.RunAsync().WaitAsync(Limit);

        Assert.DoesNotContain(rogue.Calls, c => c.StartsWith("Enroll", StringComparison.Ordinal));
        Assert.NotEqual(0, exit.Code);
        Assert.True(exit.Reason!.Contains("is not the coordinator", StringComparison.Ordinal), exit.Reason);
        Assert.False(File.Exists(Path.Combine(_agentState, "identity.crt")));
    }

    private async Task<WebApplicationHandle> Coordinator(string listen)
    {
        var app = CoordinatorHost.Build(new CoordinatorOptions { Listen = listen, StateDirectory = _state });
        using var timeout = new CancellationTokenSource(Limit);
        await app.StartAsync(timeout.Token);
        return new WebApplicationHandle(app);
    }

    private AgentOptions AgentOptions(Uri coordinator, string? token, string? caHash) => new()
    {
        Coordinator = coordinator,
        Node = "worker-2",
        Root = _root,
        StateDirectory = _agentState,
        Token = token,
        CaHash = caHash is null ? null : Convert.FromHexString(caHash["sha256:".Length..]),
        HealthCommand = "true",
        RestartCommand = "echo restarted",
    };

    /// <summary>An agent identity with its key, exactly as the coordinator issues one at enrollment.</summary>
    private static X509Certificate2 Identity(FleetAuthority authority, string node)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = new CertificateRequest("CN=" + node, key, HashAlgorithmName.SHA256).CreateSigningRequest();
        using var issued = X509CertificateLoader.LoadCertificate(authority.IssueAgentIdentity(node, csr));
        using var withKey = issued.CopyWithPrivateKey(key);
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pfx), null);
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task Eventually(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Limit;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met in time");
            await Task.Delay(50);
        }
    }

    private sealed class WebApplicationHandle(WebApplication app) : IAsyncDisposable
    {
        public IServiceProvider Services => app.Services;

        public async ValueTask DisposeAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await app.StopAsync(timeout.Token);
            await app.DisposeAsync();
        }
    }
}
