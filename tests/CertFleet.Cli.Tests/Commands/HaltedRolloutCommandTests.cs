using System.Text.Json;
using CertFleet.Cli.Tests.Fleet;
using CertFleet.Coordinator.Rollouts;
using Microsoft.Extensions.DependencyInjection;

namespace CertFleet.Cli.Tests.Commands;

/// <summary>
/// What the operator sees of a halted rollout (node, unit, probe output) in `renew --wait`, `rollout show` and
/// `status`, and `certfleet rollback`, against a real coordinator on 127.0.48.1 whose rollouts are scripted.
/// </summary>
public sealed class HaltedRolloutCommandTests : IAsyncLifetime
{
    private readonly HaltedRollouts _rollouts = new();
    private ScriptedCoordinator _coordinator = null!;

    private string Config => _coordinator.Config;

    public async Task InitializeAsync() =>
        _coordinator = await ScriptedCoordinator.StartAsync("127.0.48.1:7443", "halted-cmd",
            services => services.AddSingleton<IRolloutAdmin>(_rollouts));

    public async Task DisposeAsync() => await _coordinator.DisposeAsync();

    [Fact]
    public async Task RenewWait_RolloutHalts_ShowsNodeUnitAndEveryLineOfTheProbeAndExitsOne()
    {
        var (exitCode, output, error) = await Task.Run(() => CliRun.Invoke("--config", Config, "renew", "--all", "--wait"));

        Assert.Equal(1, exitCode);
        Assert.Contains("restart kube-apiserver.service on master-2: failed", output, StringComparison.Ordinal);
        Assert.Contains($"rollout {HaltedRollouts.Id} halted at restart kube-apiserver.service on master-2", error, StringComparison.Ordinal);
        Assert.Contains("  exit status 7", error, StringComparison.Ordinal);
        Assert.Contains($"certfleet rollback --rollout {HaltedRollouts.Id}", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RolloutShow_HaltedRollout_PrintsTheReasonAndTheProbeOutputOfTheFailedStep()
    {
        var (exitCode, output, _) = await Task.Run(() => CliRun.Invoke("--config", Config, "rollout", "show", HaltedRollouts.Id));

        Assert.Equal(0, exitCode);
        Assert.Contains($"Halted: {HaltedRollouts.Reason}", output, StringComparison.Ordinal);
        Assert.Contains("Probe output of step 3 (restart kube-apiserver.service on master-2, failed):", output, StringComparison.Ordinal);
        Assert.Contains("  GET https://127.0.0.1:6443/livez: connection refused", output, StringComparison.Ordinal);
        Assert.Contains("  exit status 7", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_HaltedRollout_TableSaysSoWithTheProbeAndWhatToRunNext()
    {
        var (exitCode, output, _) = await Task.Run(() => CliRun.Invoke("--config", Config, "status"));

        Assert.Equal(0, exitCode);
        Assert.Contains($"Rollout {HaltedRollouts.Id} is HALTED: restart of kube-apiserver.service on master-2 failed", output, StringComparison.Ordinal);
        Assert.Contains("  exit status 7", output, StringComparison.Ordinal);
        Assert.Contains($"certfleet rollout resume {HaltedRollouts.Id}", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StatusJson_HaltedRollout_KeepsNodesAndAddsTheRolloutWithItsReason()
    {
        var (exitCode, output, _) = await Task.Run(() => CliRun.Invoke("--config", Config, "status", "-o", "json"));

        Assert.Equal(0, exitCode);
        using var json = JsonDocument.Parse(output);
        Assert.Equal(JsonValueKind.Array, json.RootElement.GetProperty("nodes").ValueKind);
        var rollout = json.RootElement.GetProperty("rollout");
        Assert.Equal(HaltedRollouts.Id, rollout.GetProperty("id").GetString());
        Assert.Equal("halted", rollout.GetProperty("state").GetString());
        Assert.Equal(HaltedRollouts.Reason, rollout.GetProperty("haltReason").GetString());
    }

    [Fact]
    public async Task Rollback_OneNode_SendsTheNodeAndSaysTheRolloutIsRolledBack()
    {
        var (exitCode, output, error) = await Task.Run(() => CliRun.Invoke("--config", Config, "rollback", "--rollout", HaltedRollouts.Id, "--node", "master-1"));

        Assert.Equal(0, exitCode);
        Assert.Empty(error);
        var request = Assert.Single(_rollouts.Rollbacks);
        Assert.Equal((HaltedRollouts.Id, "master-1"), (request.RolloutId, request.Node));
        Assert.Contains($"Rolled back master-1: the files from before rollout {HaltedRollouts.Id} are back", output, StringComparison.Ordinal);
        Assert.Contains($"rollout {HaltedRollouts.Id} is rolled-back", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rollback_NodeUnreachable_ExitsOneNamingItAndTheCommandToRetry()
    {
        var (exitCode, output, error) = await Task.Run(() => CliRun.Invoke("--config", Config, "rollback", "--rollout", HaltedRollouts.Id));

        Assert.Equal(1, exitCode);
        Assert.Contains("master-3 was not rolled back: node master-3 is not connected", error, StringComparison.Ordinal);
        Assert.Contains($"certfleet rollback --rollout {HaltedRollouts.Id} --node master-3", error, StringComparison.Ordinal);
        Assert.Contains("rollback", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rollback_UnknownRolloutOrNoRolloutOption_ExitsTwo()
    {
        var unknown = await Task.Run(() => CliRun.Invoke("--config", Config, "rollback", "--rollout", "r-nope"));
        var missing = CliRun.Invoke("--config", Config, "rollback");

        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("no rollout 'r-nope'", unknown.Error, StringComparison.Ordinal);
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("--rollout", missing.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RolloutResume_SkipNodeTwice_SendsBothNodesAndTheHaltHintNamesTheFlag()
    {
        var (exitCode, _, _) = await Task.Run(() => CliRun.Invoke("--config", Config, "rollout", "resume", HaltedRollouts.Id, "--skip-node", "master-2", "--skip-node", "master-3"));
        var plain = await Task.Run(() => CliRun.Invoke("--config", Config, "rollout", "resume", HaltedRollouts.Id));
        var halted = await Task.Run(() => CliRun.Invoke("--config", Config, "renew", "--all", "--wait"));

        Assert.Equal(0, exitCode);
        Assert.Equal(0, plain.ExitCode);
        Assert.Equal([["master-2", "master-3"], []], _rollouts.Resumes.ToArray());
        Assert.Contains($"certfleet rollout resume {HaltedRollouts.Id} --skip-node master-2", halted.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plan_ExcludeNodeTwice_SendsBothNodes()
    {
        var (exitCode, _, error) = await Task.Run(() => CliRun.Invoke("--config", Config, "plan", "--all", "--exclude-node", "worker-1", "--exclude-node", "worker-2"));

        Assert.Equal(0, exitCode);
        Assert.Equal("", error);
        Assert.Equal(["worker-1", "worker-2"], Assert.Single(_rollouts.Plans).ExcludeNodes);
    }
}
