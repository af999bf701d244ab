using CertFleet.Coordinator.Audit;
using CertFleet.Coordinator.Fleet;
using CertFleet.Coordinator.Rollouts;
using CertFleet.Protocol.V1;
using CertFleet.Testing;

namespace CertFleet.Coordinator.Tests.Rollouts;

public sealed class RolloutRollbackTests(EcClusterPkiFixture fixture) : IClassFixture<EcClusterPkiFixture>
{
    private const string BackupsFolder = "var";

    [Fact]
    public async Task RollbackAsync_CompletedRollout_EveryNodeHasItsOldFilesAndTheRolloutIsRolledBack()
    {
        using var bed = FleetTestbed.Create(fixture);
        var before = bed.Gateway.NodeDirectories.ToDictionary(n => n.Key, n => FolderSnapshot.Take(n.Value));
        var started = await bed.Admin.StartAsync(new RolloutRequest { All = true }, automatic: false, CancellationToken.None);
        await bed.RunAsync();
        var restartsBefore = bed.Gateway.Restarts.Count;

        var rollout = await bed.Admin.RollbackAsync(started.Id, "", CancellationToken.None);

        Assert.Equal(RolloutState.RolledBack, rollout.State);
        foreach (var (node, snapshot) in before)
        {
            Assert.Empty(snapshot.Differences(FolderSnapshot.Take(bed.Gateway.NodeDirectories[node], excludeUnder: BackupsFolder)));
        }
        Assert.All(rollout.Steps.Where(s => s.Kind == StepKind.Install), s => Assert.Equal(StepState.RolledBack, s.State));
        Assert.All(rollout.Steps.Where(s => s.Kind == StepKind.Rollback), s => Assert.Equal(StepState.Succeeded, s.State));
        var restarts = bed.Gateway.Restarts.Skip(restartsBefore).ToList();
        Assert.All(restarts, r => Assert.True(r.Rollback));
        Assert.Equal(bed.Gateway.Restarts.Take(restartsBefore).Select(r => (r.Node, r.Unit)).Order(), restarts.Select(r => (r.Node, r.Unit)).Order());
        var etcd = restarts.FindIndex(r => r is { Node: "master-1", Unit: "etcd.service" });
        Assert.True(etcd < restarts.FindIndex(r => r is { Node: "master-1", Unit: "kube-apiserver.service" }));
        Assert.True(restarts.FindLastIndex(r => r.Node.StartsWith("master", StringComparison.Ordinal))
            < restarts.FindIndex(r => r.Node.StartsWith("worker", StringComparison.Ordinal)));
        var audited = bed.Audit.Read("", null).Where(e => e.RolloutId == started.Id).ToList();
        Assert.Contains(audited, e => e.Kind == AuditKinds.RolloutRolledBack && e.Actor == "admin");
        Assert.Equal(before.Count, audited.Count(e => e.Kind == AuditKinds.RolledBack));
    }

    [Fact]
    public async Task RollbackAsync_OneNode_OnlyThatNodeRestoredAndTheRolloutKeepsItsState()
    {
        using var bed = FleetTestbed.Create(fixture);
        var worker = bed.Gateway.NodeDirectories.Keys.First(n => n.StartsWith("worker", StringComparison.Ordinal));
        var before = FolderSnapshot.Take(bed.Gateway.NodeDirectories[worker]);
        var master = FolderSnapshot.Take(bed.Gateway.NodeDirectories["master-1"]);
        var started = await bed.Admin.StartAsync(new RolloutRequest { All = true }, automatic: false, CancellationToken.None);
        await bed.RunAsync();

        var rollout = await bed.Admin.RollbackAsync(started.Id, worker, CancellationToken.None);

        Assert.Equal(RolloutState.Completed, rollout.State);
        Assert.Empty(before.Differences(FolderSnapshot.Take(bed.Gateway.NodeDirectories[worker], excludeUnder: BackupsFolder)));
        Assert.NotEmpty(master.Differences(FolderSnapshot.Take(bed.Gateway.NodeDirectories["master-1"], excludeUnder: BackupsFolder)));
        var rollback = Assert.Single(rollout.Steps, s => s.Kind == StepKind.Rollback);
        Assert.Equal(worker, rollback.Node);
        var again = await Assert.ThrowsAsync<InvalidOperationException>(() => bed.Admin.RollbackAsync(started.Id, worker, CancellationToken.None));
        Assert.Contains($"no installed files on node {worker}", again.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RollbackAsync_RunningRollout_RefusesAndSaysToAbortFirst()
    {
        using var bed = FleetTestbed.Create(fixture);
        var started = await bed.Admin.StartAsync(new RolloutRequest { All = true }, automatic: false, CancellationToken.None);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => bed.Admin.RollbackAsync(started.Id, "", CancellationToken.None));

        Assert.Contains($"certfleet rollout abort {started.Id}", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<KeyNotFoundException>(() => bed.Admin.RollbackAsync("r-nope", "", CancellationToken.None));
    }

    [Fact]
    public async Task RollbackAsync_NodeDisconnected_ItsRollbackStepFailsAndTheRolloutIsNotRolledBack()
    {
        using var bed = FleetTestbed.Create(fixture);
        var started = await bed.Admin.StartAsync(new RolloutRequest { All = true }, automatic: false, CancellationToken.None);
        await bed.RunAsync();
        bed.Gateway.Disconnected["master-2"] = true;

        var rollout = await bed.Admin.RollbackAsync(started.Id, "", CancellationToken.None);

        Assert.Equal(RolloutState.Completed, rollout.State);
        var failed = Assert.Single(rollout.Steps, s => s is { Kind: StepKind.Rollback, State: StepState.Failed });
        Assert.Equal("master-2", failed.Node);
        Assert.Contains("master-2", failed.Message, StringComparison.Ordinal);
        Assert.Equal(StepState.Succeeded, rollout.Steps.Single(s => s is { Kind: StepKind.Install, Node: "master-2" }).State);
        bed.Gateway.Disconnected.Clear();
        var retried = await bed.Admin.RollbackAsync(started.Id, "master-2", CancellationToken.None);
        Assert.Equal(RolloutState.RolledBack, retried.State);
    }
}
