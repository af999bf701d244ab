using System.Diagnostics;
using CertFleet.Agent.Handlers;
using CertFleet.Agent.Steps;
using CertFleet.Protocol.V1;
using CertFleet.Testing;

namespace CertFleet.Agent.Tests.Gates;

public sealed class RestartGateTests(EcClusterPkiFixture pki) : IClassFixture<EcClusterPkiFixture>, IDisposable
{
    private readonly ScratchFolder _scratch = new();

    private string Record => Path.Combine(_scratch.Path, "restarts.log");

    /// <summary>Appends "{unit} <timestamp>" to a file, as the brief's recording restart command.</summary>
    private string RecordingCommand => $"echo \"{{unit}} $(date +%s.%N)\" >> {Record}";

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public async Task RestartHandler_RecordingCommandAndHealthyCommand_RestartsTheUnitAndPasses()
    {
        using var agent = new AgentUnderTest(pki.NodeRoot("worker-1"), restartCommand: RecordingCommand, healthCommand: "test {unit} = kubelet.service");

        var result = await agent.Get<RestartHandler>().HandleAsync(new RestartRequest { RolloutId = agent.InstalledFor("kubelet.service"), StepId = "s1", Unit = "kubelet.service" }, CancellationToken.None);

        Assert.True(result.Ok, result.Message);
        Assert.Equal("s1", result.StepId);
        Assert.Contains("`test kubelet.service = kubelet.service` exited 0", result.ProbeOutput);
        var line = Assert.Single(File.ReadAllLines(Record));
        Assert.StartsWith("kubelet.service ", line);
        Assert.True(new StepJournal(agent.StateDirectory).Find("s1")?.Ok);
    }

    [Fact]
    public async Task RestartHandler_HealthCommandNeverHealthy_TimesOutNamingUnitAndLastProbe()
    {
        using var agent = new AgentUnderTest(pki.NodeRoot("worker-1"), restartCommand: RecordingCommand, healthCommand: "echo still starting; false");
        var clock = Stopwatch.StartNew();

        var result = await agent.Get<RestartHandler>().HandleAsync(
            new RestartRequest { RolloutId = agent.InstalledFor("kube-proxy.service"), StepId = "s2", Unit = "kube-proxy.service", TimeoutSeconds = 2 }, CancellationToken.None);

        Assert.False(result.Ok);
        Assert.Contains("kube-proxy.service not healthy within 2 s; last probe: `echo still starting; false` exited 1: still starting", result.ProbeOutput);
        Assert.Contains("kube-proxy.service restarted, but its gate failed", result.Message);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(15));
        Assert.Single(File.ReadAllLines(Record));
    }

    [Fact]
    public async Task RestartHandler_RestartCommandFails_NotGatedAndSaysWhy()
    {
        using var agent = new AgentUnderTest(pki.NodeRoot("worker-1"), restartCommand: "echo unit {unit} not loaded >&2; exit 5");

        var result = await agent.Get<RestartHandler>().HandleAsync(new RestartRequest { RolloutId = agent.InstalledFor("kubelet.service"), StepId = "s3", Unit = "kubelet.service" }, CancellationToken.None);

        Assert.False(result.Ok);
        Assert.Equal("restarting kubelet.service failed: `echo unit kubelet.service not loaded >&2; exit 5` exited 5: unit kubelet.service not loaded", result.Message);
        Assert.Equal("", result.ProbeOutput);
    }

    [Fact]
    public async Task RestartHandler_UnitNameWithShellCharacters_RefusedWithoutRunningAnything()
    {
        using var agent = new AgentUnderTest(pki.NodeRoot("worker-1"), restartCommand: RecordingCommand);

        var result = await agent.Get<RestartHandler>().HandleAsync(new RestartRequest { RolloutId = agent.InstalledFor("kubelet; rm -rf /"), StepId = "s4", Unit = "kubelet; rm -rf /" }, CancellationToken.None);

        Assert.False(result.Ok);
        Assert.Contains("is not a systemd unit name", result.Message);
        Assert.False(File.Exists(Record));
    }

    [Fact]
    public async Task MessageDispatcher_RestartRequest_AnswerCarriesCorrelationId()
    {
        using var agent = new AgentUnderTest(pki.NodeRoot("worker-1"), restartCommand: RecordingCommand);

        var answer = await agent.Get<MessageDispatcher>().DispatchAsync(
            new CoordinatorMessage { CorrelationId = "c-42", Restart = new RestartRequest { RolloutId = agent.InstalledFor("kubelet.service"), StepId = "s5", Unit = "kubelet.service" } }, CancellationToken.None);

        Assert.Equal("c-42", answer.CorrelationId);
        Assert.True(answer.StepResult.Ok, answer.StepResult.Message);
    }
}
