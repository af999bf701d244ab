using System.Security.Cryptography.X509Certificates;
using CertFleet.Agent.Enrollment;
using CertFleet.Agent.Options;
using CertFleet.Agent.Tests.Enrollment;
using CertFleet.Protocol.V1;
using CertFleet.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CertFleet.Agent.Tests.Connection;

/// <summary>
/// An agent given a coordinator group (--coordinator URL,URL,...) against stand-in coordinators sharing one fleet CA
/// over real gRPC/TLS on 127.0.160.x: it moves past an unreachable one and a standby, and follows a standby's pointer
/// to the active one, both to enroll and to connect.
/// </summary>
public sealed class CoordinatorGroupConnectionTests(EcClusterPkiFixture pki) : IClassFixture<EcClusterPkiFixture>, IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    /// <summary>Nothing listens there: connection refused at once.</summary>
    private static readonly Uri Unreachable = new("https://127.0.160.1:7443");

    private readonly string _state = ScratchDirectory.Create("agent-group");
    private readonly X509Certificate2 _fleetCa = TestCertificates.CreateCa("certfleet-fleet-ca");

    public void Dispose()
    {
        ScratchDirectory.Delete(_state);
        _fleetCa.Dispose();
    }

    [Fact]
    public async Task Agent_FirstCoordinatorUnreachable_EnrollsAndConnectsWithTheSecond()
    {
        await using var second = await FakeCoordinator.StartAsync("127.0.160.2", _fleetCa);
        var log = new CapturedLog();
        var options = Options($"{Unreachable},{second.Url}");

        using var host = AgentHost.Build(options, s => s.AddSingleton<ILoggerProvider>(log));
        await host.StartAsync().WaitAsync(Limit);
        var hello = await second.NextAsync(AgentMessage.BodyOneofCase.Hello);
        await Logged(log, $"Connected to coordinator {second.Url} as worker-1");
        await host.StopAsync().WaitAsync(Limit);

        Assert.Equal("worker-1", hello.Hello.Node);
        Assert.Equal(1, second.EnrollCalls);
        Assert.Equal(["worker-1"], second.ConnectedAs);
        Assert.Contains($"Coordinator {Unreachable} did not take the enrollment", log.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Agent_StandbyNamesTheActive_SkipsTheOthersAndEnrollsAndConnectsThere()
    {
        await using var standby = await FakeCoordinator.StartAsync("127.0.160.3", _fleetCa);
        await using var otherStandby = await FakeCoordinator.StartAsync("127.0.160.4", _fleetCa);
        await using var active = await FakeCoordinator.StartAsync("127.0.160.5", _fleetCa);
        standby.Standby = new FakeCoordinator.StandbyRole(active.Url);
        otherStandby.Standby = new FakeCoordinator.StandbyRole(null);

        using var host = AgentHost.Build(Options($"{standby.Url},{otherStandby.Url},{active.Url}"));
        await host.StartAsync().WaitAsync(Limit);
        await active.NextAsync(AgentMessage.BodyOneofCase.Hello);
        await host.StopAsync().WaitAsync(Limit);

        Assert.Equal(1, active.EnrollCalls);
        Assert.Equal(["worker-1"], active.ConnectedAs);
        Assert.Equal(2, standby.Refused); // Enroll, then the first Connect: each tries the list from its start
        Assert.Equal(0, otherStandby.EnrollCalls);
        Assert.Equal(0, otherStandby.Refused);
    }

    [Fact]
    public async Task Agent_ActiveBecomesAStandby_ReconnectsToTheNewActiveAndLogsTheChange()
    {
        await using var first = await FakeCoordinator.StartAsync("127.0.160.6", _fleetCa);
        await using var second = await FakeCoordinator.StartAsync("127.0.160.7", _fleetCa);
        second.Standby = new FakeCoordinator.StandbyRole(first.Url);
        var log = new CapturedLog();

        using var host = AgentHost.Build(Options($"{first.Url},{second.Url}"), s => s.AddSingleton<ILoggerProvider>(log));
        await host.StartAsync().WaitAsync(Limit);
        await first.NextAsync(AgentMessage.BodyOneofCase.Hello);
        await Logged(log, $"Connected to coordinator {first.Url} as worker-1");

        // the failover: the second takes the lease, the first steps down and drops its streams
        second.Standby = null;
        first.Standby = new FakeCoordinator.StandbyRole(second.Url);
        first.DropStreams();
        var hello = await second.NextAsync(AgentMessage.BodyOneofCase.Hello);
        await Logged(log, $"Now connected to coordinator {second.Url} instead of {first.Url}");
        await host.StopAsync().WaitAsync(Limit);

        Assert.Equal("worker-1", hello.Hello.Node);
    }

    /// <summary>The agent logs a connection once its first report is sent, a moment after the coordinator saw Hello.</summary>
    private static async Task Logged(CapturedLog log, string line)
    {
        var until = DateTime.UtcNow + Limit;
        while (!log.Text.Contains(line, StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < until, $"not logged: {line}\n{log.Text}");
            await Task.Delay(50);
        }
    }

    private AgentOptions Options(string coordinators)
    {
        var parsed = AgentOptionsParser.Parse(
            ["--coordinator", coordinators, "--node", "worker-1", "--root", pki.NodeRoot("worker-1"), "--state-dir", _state,
             "--token", FakeCoordinator.GoodToken, "--ca-hash", "sha256:" + Convert.ToHexStringLower(CoordinatorTrust.SpkiHash(_fleetCa)),
             "--health-command", "true", "--restart-command", "true"],
            Path.Combine(_state, "absent.conf"));
        Assert.Empty(parsed.Errors);
        return parsed.Options!;
    }
}
