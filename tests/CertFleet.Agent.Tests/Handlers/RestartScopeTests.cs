using CertFleet.Agent.Enrollment;
using CertFleet.Agent.Handlers;
using CertFleet.Agent.Options;
using CertFleet.Agent.Tests.Connection;
using CertFleet.Pki.Signing;
using CertFleet.Protocol.V1;
using CertFleet.Testing;
using Google.Protobuf;

namespace CertFleet.Agent.Tests.Handlers;

/// <summary>
/// A coordinator that is not to be trusted with the node's services: the real agent, enrolled at a fake coordinator
/// over real gRPC/TLS, restarts only the services that use what an install of the same rollout put in place, and
/// never a target, socket or any other kind of unit. The restart command is a script that records its arguments.
/// </summary>
public sealed class RestartScopeTests(EcClusterPkiFixture pki) : IClassFixture<EcClusterPkiFixture>, IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);
    private readonly ScratchFolder _scratch = new();
    private readonly string _state = ScratchDirectory.Create("agent-scope");

    private string Record => Path.Combine(_scratch.Path, "restarted.log");

    public void Dispose()
    {
        _scratch.Dispose();
        ScratchDirectory.Delete(_state);
    }

    [Fact]
    public async Task Restart_FromTheCoordinator_OnlyTheServiceUsingWhatThisRolloutInstalledIsRestarted()
    {
        var root = pki.CopyNode("worker-1");
        await using var coordinator = await FakeCoordinator.StartAsync("127.0.20.6");
        using var host = AgentHost.Build(Options(coordinator, root));
        await host.StartAsync().WaitAsync(Limit);
        await coordinator.NextAsync(AgentMessage.BodyOneofCase.Inventory);

        var poweroff = await RestartAsync(coordinator, "r-1", "r-1/1", "poweroff.target");
        var notInstalledYet = await RestartAsync(coordinator, "r-1", "r-1/2", "kube-proxy.service");
        var install = await SendAsync(coordinator, new CoordinatorMessage { Install = Renewal("r-1", "r-1/3", root, "worker-1.crt") });
        var otherService = await RestartAsync(coordinator, "r-1", "r-1/4", "kube-proxy.service");
        var otherRollout = await RestartAsync(coordinator, "r-2", "r-2/1", "kubelet.service");
        var kubelet = await RestartAsync(coordinator, "r-1", "r-1/5", "kubelet.service");
        await host.StopAsync().WaitAsync(Limit);

        Assert.False(poweroff.Ok);
        Assert.Contains("poweroff.target is not a service", poweroff.Message, StringComparison.Ordinal);
        Assert.False(notInstalledYet.Ok);
        Assert.Equal("unit kube-proxy.service uses no certificate installed by rollout r-1 on this node; refused", notInstalledYet.Message);
        Assert.True(install.Ok, install.Message);
        Assert.Contains("kubelet.service", install.UnitsToRestart);
        Assert.DoesNotContain("kube-proxy.service", install.UnitsToRestart);
        Assert.False(otherService.Ok);
        Assert.Equal("unit kube-proxy.service uses no certificate installed by rollout r-1 on this node; refused", otherService.Message);
        Assert.False(otherRollout.Ok);
        Assert.Equal("unit kubelet.service uses no certificate installed by rollout r-2 on this node; refused", otherRollout.Message);
        Assert.True(kubelet.Ok, kubelet.Message);
        Assert.Equal(["kubelet.service"], File.ReadAllLines(Record));
    }

    [Theory]
    [InlineData("reboot.target")]
    [InlineData("sshd.socket")]
    [InlineData("var-lib-kubelet.mount")]
    [InlineData("dev-sda.device")]
    [InlineData("swapfile.swap")]
    [InlineData("logrotate.timer")]
    [InlineData("kubelet.path")]
    [InlineData("system.slice")]
    [InlineData("session-1.scope")]
    [InlineData("proc-sys-fs-binfmt_misc.automount")]
    [InlineData("kubelet")]
    [InlineData("kubelet@.service")]
    [InlineData("@kubelet.service")]
    public async Task RestartHandler_NotAServiceUnitEvenIfAnInstallNamedIt_RefusedWithoutRunningAnything(string unit)
    {
        var root = pki.CopyNode("worker-1");
        using var agent = new AgentUnderTest(root, restartCommand: RecordingCommand());
        var install = agent.Get<InstallHandler>().Handle(Renewal("r-1", "r-1/1", root, "worker-1.crt"));
        Assert.True(install.Ok, install.Message);

        var result = await agent.Get<RestartHandler>().HandleAsync(new RestartRequest { RolloutId = "r-1", StepId = "r-1/2", Unit = unit }, CancellationToken.None);

        Assert.False(result.Ok);
        Assert.Contains(unit, result.Message, StringComparison.Ordinal);
        Assert.EndsWith("refused", result.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Record));
    }

    [Fact]
    public async Task RollbackHandler_UnitsTheInstallDidNotTouch_FilesPutBackButOnlyItsOwnServiceRestarted()
    {
        var root = pki.CopyNode("worker-1");
        using var agent = new AgentUnderTest(root, restartCommand: RecordingCommand());
        var install = agent.Get<InstallHandler>().Handle(Renewal("r-1", "r-1/1", root, "worker-1.crt"));
        Assert.True(install.Ok, install.Message);

        var result = await agent.Get<RollbackHandler>().HandleAsync(new RollbackRequest
        {
            RolloutId = "r-1", StepId = "r-1/2", InstallStepId = "r-1/1", Units = { "poweroff.target", "sshd.service", "kubelet.service" },
        }, CancellationToken.None);

        Assert.False(result.Ok);
        Assert.Contains("poweroff.target is not a service", result.Message, StringComparison.Ordinal);
        Assert.Contains("unit sshd.service uses no certificate installed by rollout r-1 on this node; refused", result.Message, StringComparison.Ordinal);
        Assert.Contains("restored the files", result.Message, StringComparison.Ordinal);
        Assert.Equal(["kubelet.service"], File.ReadAllLines(Record));
    }

    [Fact]
    public async Task RestartHandler_InstallOfThisRolloutFoundEverythingInPlace_ItsServicesMayStillRestart()
    {
        var root = pki.CopyNode("worker-1");
        using var agent = new AgentUnderTest(root, restartCommand: RecordingCommand());
        var renewal = Renewal("r-1", "r-1/1", root, "worker-1.crt");
        Assert.True(agent.Get<InstallHandler>().Handle(renewal).Ok);
        // the same certificates sent again in a later rollout (say, after the first was aborted): nothing to write
        var again = renewal.Clone();
        again.RolloutId = "r-2";
        again.StepId = "r-2/1";
        var second = agent.Get<InstallHandler>().Handle(again);

        var result = await agent.Get<RestartHandler>().HandleAsync(new RestartRequest { RolloutId = "r-2", StepId = "r-2/2", Unit = "kubelet.service" }, CancellationToken.None);

        Assert.True(second.Ok, second.Message);
        Assert.Contains("already installed", second.Message, StringComparison.Ordinal);
        Assert.True(result.Ok, result.Message);
        Assert.Equal(["kubelet.service"], File.ReadAllLines(Record));
    }

    private string RecordingCommand()
    {
        var script = _scratch.Write("record-restart.sh", System.Text.Encoding.UTF8.GetBytes($"#!/bin/sh\nprintf '%s\\n' \"$@\" >> '{Record}'\n"));
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return $"{script} {{unit}}";
    }

    private AgentOptions Options(FakeCoordinator coordinator, string root) => new()
    {
        Coordinator = coordinator.Url,
        Node = "worker-1",
        Root = root,
        StateDirectory = _state,
        Token = FakeCoordinator.GoodToken,
        CaHash = CoordinatorTrust.SpkiHash(coordinator.Ca),
        HealthCommand = "true",
        RestartCommand = RecordingCommand(),
    };

    private static Task<StepResult> RestartAsync(FakeCoordinator coordinator, string rollout, string step, string unit) =>
        SendAsync(coordinator, new CoordinatorMessage { Restart = new RestartRequest { RolloutId = rollout, StepId = step, Unit = unit } });

    /// <summary>One request at a time, so each answer is the one to the request just sent.</summary>
    private static async Task<StepResult> SendAsync(FakeCoordinator coordinator, CoordinatorMessage message)
    {
        message.CorrelationId = Guid.NewGuid().ToString("N");
        await coordinator.ToSend.Writer.WriteAsync(message);
        var answer = await coordinator.NextAsync(AgentMessage.BodyOneofCase.StepResult);
        Assert.Equal(message.CorrelationId, answer.CorrelationId);
        return answer.StepResult;
    }

    /// <summary>An install of the renewal of a worker's certificate, signed by the cluster CA (on master-1) as the coordinator would.</summary>
    private InstallRequest Renewal(string rollout, string step, string root, string certificateFile)
    {
        var previous = AgentUnderTest.LoadCertificate(Path.Combine(root, "etc/kubernetes/pki", certificateFile));
        using var key = AgentUnderTest.LoadKey(Path.Combine(root, "etc/kubernetes/pki", Path.ChangeExtension(certificateFile, ".key")));
        var caFolder = Path.Combine(pki.NodeRoot("master-1"), "etc/kubernetes/pki");
        using var caKey = AgentUnderTest.LoadKey(Path.Combine(caFolder, "ca.key"));
        var renewed = new CertificateIssuer(TimeProvider.System).Renew(CertificateRequestBuilder.FromExistingCertificate(previous, key), previous,
            new CertificateAuthority(AgentUnderTest.LoadCertificate(Path.Combine(caFolder, "ca.crt")), caKey), TimeSpan.FromDays(365));
        return new InstallRequest
        {
            RolloutId = rollout,
            StepId = step,
            Replacements = { new Replacement { OldFingerprint = previous.Sha256Fingerprint, CertificateDer = ByteString.CopyFrom(renewed.Der) } },
        };
    }
}
