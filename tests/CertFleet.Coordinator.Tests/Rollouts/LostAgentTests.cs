using CertFleet.Coordinator.Fleet;
using CertFleet.Coordinator.Rollouts;
using CertFleet.Protocol.V1;
using CertFleet.Testing;

namespace CertFleet.Coordinator.Tests.Rollouts;

/// <summary>An agent that goes silent or hangs up in the middle of a step halts the rollout with that reason.</summary>
public sealed class LostAgentTests(EcClusterPkiFixture fixture) : IClassFixture<EcClusterPkiFixture>
{
    [Fact]
    public async Task Run_AgentSilentDuringRestart_HaltsNamingNodeStepAndTimeAndNothingElseProceeds()
    {
        using var bed = FleetTestbed.Create(fixture);
        bed.Gateway.BeforeRestart = (node, unit, _) => node == "master-1" && unit == "etcd.service"
            ? throw new AgentUnavailableException("node master-1 did not answer a Restart request within 120 s", TimeSpan.FromSeconds(120))
            : Task.CompletedTask;

        var started = await bed.Admin.StartAsync(new RolloutRequest { All = true }, automatic: false, CancellationToken.None);
        await bed.RunAsync();

        var rollout = await bed.Admin.GetAsync(started.Id, CancellationToken.None);
        Assert.Equal(RolloutState.Halted, rollout.State);
        var step = rollout.Steps.Single(s => s is { Kind: StepKind.Restart, Node: "master-1", Unit: "etcd.service" });
        Assert.Contains($"node master-1 did not answer step {step.Sequence} (restart etcd.service) within 120 s", rollout.HaltReason, StringComparison.Ordinal);
        Assert.Equal(StepState.Failed, step.State);
        Assert.All(rollout.Steps.Where(s => s.Batch > step.Batch), s => Assert.Equal(StepState.Pending, s.State));
        Assert.DoesNotContain(bed.Gateway.Restarts, r => !r.Rollback);
    }

    [Fact]
    public async Task Run_AgentHangsUpDuringRestart_HaltsSayingItLostItsConnection()
    {
        using var bed = FleetTestbed.Create(fixture);
        bed.Gateway.BeforeRestart = (node, unit, _) =>
        {
            if (node == "master-2" && unit == "kube-apiserver.service")
            {
                bed.Gateway.Disconnected["master-2"] = true;
                throw new AgentUnavailableException("node master-2 is not connected (its stream was cut); check its certfleet-agent service");
            }
            return Task.CompletedTask;
        };

        var started = await bed.Admin.StartAsync(new RolloutRequest { All = true }, automatic: false, CancellationToken.None);
        var run = bed.RunAsync();
        await AdvanceUntil(bed, () => run.IsCompleted, TimeSpan.FromSeconds(1)); // the rollback waits the step timeout for master-2
        await run;

        var rollout = await bed.Admin.GetAsync(started.Id, CancellationToken.None);
        Assert.Equal(RolloutState.Halted, rollout.State);
        var step = rollout.Steps.Single(s => s is { Kind: StepKind.Restart, Node: "master-2", Unit: "kube-apiserver.service" });
        Assert.Contains($"node master-2 lost its connection during step {step.Sequence} (restart kube-apiserver.service)", rollout.HaltReason, StringComparison.Ordinal);
        Assert.DoesNotContain(bed.Gateway.Restarts, r => r is { Node: "master-3", Unit: "kube-apiserver.service" });
        Assert.All(rollout.Steps.Where(s => s.Batch > step.Batch), s => Assert.Equal(StepState.Pending, s.State));
        // the rollback could not reach the node either, and the reason says so
        Assert.Contains("rolling master-2 back failed too: node master-2 is not connected and did not come back within 10 s", rollout.HaltReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_AgentHangsUpAndComesBack_TheNodeIsRolledBackOnceItIsBack()
    {
        using var bed = FleetTestbed.Create(fixture);
        var before = CertFleet.Testing.FolderSnapshot.Take(bed.Gateway.NodeDirectories["master-2"]);
        bed.Gateway.BeforeRestart = (node, unit, _) =>
        {
            if (node == "master-2" && unit == "kube-apiserver.service" && !bed.Gateway.Disconnected.ContainsKey("gone-once"))
            {
                bed.Gateway.Disconnected["gone-once"] = true;
                bed.Gateway.Disconnected["master-2"] = true;
                throw new AgentUnavailableException("node master-2 is not connected (its stream was cut)");
            }
            return Task.CompletedTask;
        };
        var started = await bed.Admin.StartAsync(new RolloutRequest { All = true }, automatic: false, CancellationToken.None);

        var run = bed.RunAsync();
        await AdvanceUntil(bed, () => bed.Store.Find(started.Id)!.Steps.Any(s => s is { Kind: StepKind.Rollback, State: StepState.Running }), TimeSpan.FromSeconds(1));
        bed.Gateway.Disconnected.TryRemove("master-2", out _);
        await AdvanceUntil(bed, () => run.IsCompleted, TimeSpan.FromMilliseconds(250));
        await run;

        var rollout = bed.Store.Find(started.Id)!;
        Assert.Equal(RolloutState.Halted, rollout.State);
        Assert.Contains("master-2 was rolled back to its previous files", rollout.HaltReason, StringComparison.Ordinal);
        Assert.Empty(before.Differences(CertFleet.Testing.FolderSnapshot.Take(bed.Gateway.NodeDirectories["master-2"], excludeUnder: "var")));
    }

    [Fact]
    public async Task Run_NodeAwayWhenItsStepComes_WaitsForItsAgentToReconnectAndGoesOn()
    {
        using var bed = FleetTestbed.Create(fixture);
        var started = await bed.Admin.StartAsync(new RolloutRequest { All = true }, automatic: false, CancellationToken.None);
        bed.Gateway.Disconnected["worker-1"] = true; // gone after the plan

        var run = bed.RunAsync();
        await AdvanceUntil(bed, () => bed.Store.Find(started.Id)!.Steps.Any(s => s is { Node: "worker-1", State: StepState.Running }), TimeSpan.FromSeconds(2));
        bed.Gateway.Disconnected.Clear();
        await AdvanceUntil(bed, () => run.IsCompleted, TimeSpan.FromMilliseconds(250));
        await run;

        Assert.Equal(RolloutState.Completed, bed.Store.Find(started.Id)!.State);
    }

    [Fact]
    public async Task Run_NodeStaysAway_HaltsAfterTheStepTimeoutSayingItDidNotComeBack()
    {
        using var bed = FleetTestbed.Create(fixture);
        var started = await bed.Admin.StartAsync(new RolloutRequest { All = true }, automatic: false, CancellationToken.None);
        bed.Gateway.Disconnected["worker-1"] = true; // gone after the plan

        var run = bed.RunAsync();
        await AdvanceUntil(bed, () => run.IsCompleted, TimeSpan.FromSeconds(1));
        await run;

        var rollout = bed.Store.Find(started.Id)!;
        Assert.Equal(RolloutState.Halted, rollout.State);
        Assert.Contains("node worker-1 is not connected and did not come back within 10 s", rollout.HaltReason, StringComparison.Ordinal);
        Assert.DoesNotContain(bed.Gateway.Restarts, r => r.Node.StartsWith("worker", StringComparison.Ordinal));
    }

    /// <summary>Moves the fake clock on in steps until the condition holds (within 60 s of real time).</summary>
    private static async Task AdvanceUntil(FleetTestbed bed, Func<bool> condition, TimeSpan step)
    {
        var limit = DateTime.UtcNow.AddSeconds(60);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < limit, "the condition did not hold within 60 s");
            bed.Time.Advance(step);
            await Task.Delay(20);
        }
    }
}
