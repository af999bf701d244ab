using CertFleet.Agent.Connection;
using CertFleet.Agent.Enrollment;
using CertFleet.Agent.Options;
using CertFleet.Protocol.V1;
using CertFleet.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace CertFleet.Agent.Tests.Connection;

/// <summary>Enrollment and the Connect stream against a stand-in coordinator over real gRPC/TLS on 127.0.20.1.</summary>
public sealed class AgentConnectionTests(EcClusterPkiFixture pki) : IClassFixture<EcClusterPkiFixture>, IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);
    private readonly string _state = ScratchDirectory.Create("agent-conn");

    public void Dispose() => ScratchDirectory.Delete(_state);

    [Fact]
    public async Task Agent_WithTokenThenRestartedWithout_EnrollsOnceConnectsAndAnswersInOrder()
    {
        await using var coordinator = await FakeCoordinator.StartAsync();
        var options = Options(coordinator, FakeCoordinator.GoodToken, CoordinatorTrust.SpkiHash(coordinator.Ca));

        using (var host = AgentHost.Build(options))
        {
            await host.StartAsync().WaitAsync(Limit);
            var hello = await coordinator.NextAsync(AgentMessage.BodyOneofCase.Hello);
            Assert.Equal("worker-1", hello.Hello.Node);
            var report = await coordinator.NextAsync(AgentMessage.BodyOneofCase.Inventory);
            Assert.Contains(report.Inventory.Certificates, c => c.Path == "/etc/kubernetes/pki/worker-1.crt");

            await coordinator.ToSend.Writer.WriteAsync(new CoordinatorMessage { CorrelationId = "c-1", Verify = new VerifyRequest { WarnWithinDays = 0 } });
            await coordinator.ToSend.Writer.WriteAsync(new CoordinatorMessage { CorrelationId = "c-2", CsrRequest = new CsrRequest { Fingerprints = { "00" } } });
            var verified = await coordinator.NextAsync(AgentMessage.BodyOneofCase.Verification);
            var csrs = await coordinator.NextAsync(AgentMessage.BodyOneofCase.Csrs);
            Assert.Equal("c-1", verified.CorrelationId);
            Assert.True(verified.Verification.Passed, string.Join("; ", verified.Verification.Problems));
            Assert.Equal("c-2", csrs.CorrelationId);
            await host.StopAsync().WaitAsync(Limit);
        }
        Assert.True(File.Exists(Path.Combine(_state, "identity.crt")));

        using (var restarted = AgentHost.Build(options with { Token = null, CaHash = null }))
        {
            await restarted.StartAsync().WaitAsync(Limit);
            await coordinator.NextAsync(AgentMessage.BodyOneofCase.Hello);
            await restarted.StopAsync().WaitAsync(Limit);
        }
        Assert.Equal(["worker-1", "worker-1"], coordinator.ConnectedAs);
    }

    [Fact]
    public async Task Agent_IdentityExpiredWhileTheCoordinatorWasAway_StopsSayingToEnrollAgainWithAToken()
    {
        await using var coordinator = await FakeCoordinator.StartAsync();
        var options = Options(coordinator, FakeCoordinator.GoodToken, CoordinatorTrust.SpkiHash(coordinator.Ca));
        using (var host = AgentHost.Build(options))
        {
            await host.StartAsync().WaitAsync(Limit);
            await coordinator.NextAsync(AgentMessage.BodyOneofCase.Hello);
            await host.StopAsync().WaitAsync(Limit);
        }
        var later = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow.AddYears(1));
        using var restarted = AgentHost.Build(options with { Token = null, CaHash = null }, s => s.AddSingleton<TimeProvider>(later));
        var exit = restarted.Services.GetRequiredService<AgentExit>();

        await restarted.RunAsync().WaitAsync(Limit);

        Assert.NotEqual(0, exit.Code);
        Assert.Contains("the agent identity in " + _state + " expired at", exit.Reason);
        Assert.Contains("certfleet token create --node worker-1", exit.Reason);
    }

    [Fact]
    public async Task Agent_RejectedToken_StopsWithTheReasonAndNonZeroExitAndStoresNoIdentity()
    {
        await using var coordinator = await FakeCoordinator.StartAsync();
        using var host = AgentHost.Build(Options(coordinator, "wrong.token", CoordinatorTrust.SpkiHash(coordinator.Ca)));

        var exit = host.Services.GetRequiredService<AgentExit>();

        await host.RunAsync().WaitAsync(Limit);

        Assert.NotEqual(0, exit.Code);
        Assert.Contains("enrollment refused", exit.Reason);
        Assert.Contains("the bootstrap token is unknown or expired (PermissionDenied)", exit.Reason);
        Assert.False(File.Exists(Path.Combine(_state, "identity.crt")));
    }

    [Fact]
    public async Task Agent_CoordinatorNotThePinnedOne_StopsNamingCaHash()
    {
        await using var coordinator = await FakeCoordinator.StartAsync();
        using var host = AgentHost.Build(Options(coordinator, FakeCoordinator.GoodToken, new byte[32]));

        var exit = host.Services.GetRequiredService<AgentExit>();

        await host.RunAsync().WaitAsync(Limit);

        Assert.NotEqual(0, exit.Code);
        Assert.Contains("not the one pinned by --ca-hash", exit.Reason);
        Assert.Empty(coordinator.ConnectedAs);
    }

    [Fact]
    public async Task Agent_StreamDropped_ReconnectsWithHelloCarryingJournalAndKeepsHeartbeatsAndReports()
    {
        await using var coordinator = await FakeCoordinator.StartAsync();
        new CertFleet.Agent.Steps.StepJournal(_state).Record(new CertFleet.Agent.Steps.JournalEntry
        {
            StepId = "install-before-restart", Kind = "install", Ok = true, Message = "installed", BackupDirectory = "/var/lib/certfleet/backups/x",
        });
        var options = Options(coordinator, FakeCoordinator.GoodToken, CoordinatorTrust.SpkiHash(coordinator.Ca)) with
        {
            HeartbeatInterval = TimeSpan.FromMilliseconds(200),
        };
        using var host = AgentHost.Build(options);
        await host.StartAsync().WaitAsync(Limit);
        var first = await coordinator.NextAsync(AgentMessage.BodyOneofCase.Hello);
        Assert.Equal("install-before-restart", Assert.Single(first.Hello.RecentSteps).StepId);
        await coordinator.NextAsync(AgentMessage.BodyOneofCase.Heartbeat);

        coordinator.DropStreams();
        var second = await coordinator.NextAsync(AgentMessage.BodyOneofCase.Hello);
        await coordinator.NextAsync(AgentMessage.BodyOneofCase.Inventory);
        await coordinator.ToSend.Writer.WriteAsync(new CoordinatorMessage { CorrelationId = "c-9", Install = new InstallRequest { StepId = "empty-install" } });
        var installed = await coordinator.NextAsync(AgentMessage.BodyOneofCase.StepResult);
        var report = await coordinator.NextAsync(AgentMessage.BodyOneofCase.Inventory);
        await host.StopAsync().WaitAsync(Limit);

        Assert.Equal("worker-1", second.Hello.Node);
        Assert.Equal("c-9", installed.CorrelationId);
        Assert.True(installed.StepResult.Ok, installed.StepResult.Message);
        Assert.Equal("", report.CorrelationId);
        Assert.Equal(2, coordinator.ConnectedAs.Count);
    }

    private AgentOptions Options(FakeCoordinator coordinator, string token, byte[] hash) => new()
    {
        Coordinator = coordinator.Url,
        Node = "worker-1",
        Root = pki.NodeRoot("worker-1"),
        StateDirectory = _state,
        Token = token,
        CaHash = hash,
        HealthCommand = "true",
        RestartCommand = "true",
    };
}
