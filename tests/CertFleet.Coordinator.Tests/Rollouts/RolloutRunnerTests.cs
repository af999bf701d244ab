using CertFleet.Coordinator.Rollouts;
using CertFleet.Pki.Renewal;
using CertFleet.Protocol.V1;
using CertFleet.Testing;

namespace CertFleet.Coordinator.Tests.Rollouts;

public sealed class RolloutRunnerTests(EcClusterPkiFixture fixture) : IClassFixture<EcClusterPkiFixture>
{
    private const string BackupsFolder = "var";

    [Fact]
    public async Task Run_WholeFleet_EveryLeafRenewedWithItsKeyAndRestartsInRunbookOrder()
    {
        using var bed = FleetTestbed.Create(fixture);

        var started = await bed.Admin.StartAsync(new RolloutRequest { All = true }, automatic: false, CancellationToken.None);
        await bed.RunAsync();

        var rollout = await bed.Admin.GetAsync(started.Id, CancellationToken.None);
        Assert.Equal(RolloutState.Completed, rollout.State);
        Assert.All(rollout.Steps, s => Assert.Equal(StepState.Succeeded, s.State));
        foreach (var row in fixture.Manifest().Where(r => r.Subject != r.Issuer))
        {
            var renewed = bed.HostPath(row.Node, row.Path);
            var original = Path.Combine(fixture.NodeRoot(row.Node), row.Path.TrimStart('/'));
            var verify = Openssl.Verify(bed.HostPath(row.Node, IssuerFile(row)), renewed);
            Assert.True(verify.ExitCode == 0, $"{row.Node}:{row.Path}: {verify.Combined}");
            Assert.NotEqual(Openssl.Serial(original), Openssl.Serial(renewed));
            Assert.Equal(Openssl.PublicKey(original), Openssl.PublicKey(renewed));
            Assert.Equal(Openssl.Subject(original), Openssl.Subject(renewed));
        }
        AssertRunbookOrder(bed.Gateway.Restarts);
    }

    [Fact]
    public async Task Run_WithCa_CaRenewedWithItsKeyAndEveryCopyReplaced()
    {
        using var bed = FleetTestbed.Create(fixture);
        var oldCa = Path.Combine(fixture.NodeRoot("master-1"), "etc/kubernetes/pki/ca.crt");

        var started = await bed.Admin.StartAsync(new RolloutRequest { All = true, RenewAuthorities = true }, automatic: false, CancellationToken.None);
        await bed.RunAsync();

        Assert.Equal(RolloutState.Completed, (await bed.Admin.GetAsync(started.Id, CancellationToken.None)).State);
        var coordinatorCa = bed.Authorities.All.Single(a => a.Certificate.Subject == "CN=kubernetes").Certificate;
        foreach (var node in bed.Gateway.NodeDirectories.Keys)
        {
            var ca = bed.HostPath(node, "/etc/kubernetes/pki/ca.crt");
            Assert.Equal(coordinatorCa.ToPem(), File.ReadAllText(ca));
            Assert.NotEqual(Openssl.Serial(oldCa), Openssl.Serial(ca));
            Assert.Equal(Openssl.PublicKey(oldCa), Openssl.PublicKey(ca));
            Assert.Equal(0, Openssl.Verify(ca, bed.HostPath(node, "/etc/kubernetes/pki/kube-proxy.crt")).ExitCode);
        }
        var verification = await bed.Admin.VerifyFleetAsync(new VerifyFleetRequest(), CancellationToken.None);
        Assert.All(verification.Nodes, n => Assert.True(n.Result.Passed, n.ToString()));
    }

    [Fact]
    public async Task Run_GateFails_HaltsRollsThatNodeBackAndRunsNothingAfter()
    {
        using var bed = FleetTestbed.Create(fixture);
        var before = FolderSnapshot.Take(bed.Gateway.NodeDirectories["master-2"]);
        bed.Gateway.FailingGates[("master-2", "kube-apiserver.service")] = "GET https://127.0.0.1:6443/livez: connection refused";

        var started = await bed.Admin.StartAsync(new RolloutRequest { All = true }, automatic: false, CancellationToken.None);
        await bed.RunAsync();

        var rollout = await bed.Admin.GetAsync(started.Id, CancellationToken.None);
        Assert.Equal(RolloutState.Halted, rollout.State);
        Assert.Contains("kube-apiserver.service on master-2", rollout.HaltReason, StringComparison.Ordinal);
        Assert.Contains("connection refused", rollout.HaltReason, StringComparison.Ordinal);
        Assert.Contains("rolled back", rollout.HaltReason, StringComparison.Ordinal);
        Assert.Empty(before.Differences(FolderSnapshot.Take(bed.Gateway.NodeDirectories["master-2"], excludeUnder: BackupsFolder)));
        var restarts = bed.Gateway.Restarts;
        var failing = restarts.Single(r => r is { Node: "master-2", Unit: "kube-apiserver.service", Rollback: false });
        var after = Assert.Single(restarts, r => r.Ordinal > failing.Ordinal);
        Assert.Equal(("master-2", "kube-apiserver.service", true), (after.Node, after.Unit, after.Rollback));
        Assert.DoesNotContain(restarts, r => r.Unit == "kube-apiserver.service" && r.Node == "master-3");
        Assert.Equal(StepState.RolledBack, rollout.Steps.Single(s => s is { Kind: StepKind.Install, Node: "master-2" }).State);
        Assert.All(rollout.Steps.Where(s => s.Batch > rollout.Steps.Single(f => f.State == StepState.Failed).Batch), s => Assert.Equal(StepState.Pending, s.State));
    }

    [Fact]
    public async Task Resume_AfterTheCauseIsFixed_ReinstallsTheRolledBackNodeAndCompletes()
    {
        using var bed = FleetTestbed.Create(fixture);
        bed.Gateway.FailingGates[("master-2", "kube-apiserver.service")] = "connection refused";
        var started = await bed.Admin.StartAsync(new RolloutRequest { All = true }, automatic: false, CancellationToken.None);
        await bed.RunAsync();
        bed.Gateway.FailingGates.Clear();

        var resumed = await bed.Admin.ResumeAsync(started.Id, [], CancellationToken.None);
        await bed.RunAsync();

        Assert.Equal(RolloutState.Running, resumed.State);
        var rollout = await bed.Admin.GetAsync(started.Id, CancellationToken.None);
        Assert.Equal(RolloutState.Completed, rollout.State);
        var apiserver = bed.HostPath("master-2", "/etc/kubernetes/pki/apiserver.crt");
        Assert.NotEqual(Openssl.Serial(Path.Combine(fixture.NodeRoot("master-2"), "etc/kubernetes/pki/apiserver.crt")), Openssl.Serial(apiserver));
        Assert.Equal(0, Openssl.Verify(bed.HostPath("master-2", "/etc/kubernetes/pki/ca.crt"), apiserver).ExitCode);
        var restarts = bed.Gateway.Restarts.Where(r => !r.Rollback).ToList();
        var retried = restarts.Last(r => r is { Node: "master-2", Unit: "kube-apiserver.service" });
        Assert.True(retried.Ordinal < restarts.Single(r => r is { Node: "master-3", Unit: "kube-apiserver.service" }).Ordinal);
        Assert.Equal(2, rollout.Steps.Count(s => s is { Kind: StepKind.Install, Node: "master-2" }));
    }

    [Fact]
    public async Task Abort_HaltedRollout_SkipsTheRestAndFreesTheFleet()
    {
        using var bed = FleetTestbed.Create(fixture);
        bed.Gateway.FailingGates[("master-1", "etcd.service")] = "etcd member unhealthy";
        var started = await bed.Admin.StartAsync(new RolloutRequest { All = true }, automatic: false, CancellationToken.None);
        await bed.RunAsync();

        var aborted = await bed.Admin.AbortAsync(started.Id, CancellationToken.None);
        await bed.RunAsync();

        Assert.Equal(RolloutState.Aborted, aborted.State);
        Assert.NotNull(aborted.FinishedAt);
        Assert.DoesNotContain(aborted.Steps, s => s.State == StepState.Pending);
        Assert.Equal(2, bed.Gateway.Restarts.Count); // the failing restart and its rollback
        await Assert.ThrowsAsync<InvalidOperationException>(() => bed.Admin.ResumeAsync(started.Id, [], CancellationToken.None));
        bed.Gateway.FailingGates.Clear();
        var next = await bed.Admin.StartAsync(new RolloutRequest { All = true }, automatic: false, CancellationToken.None);
        Assert.NotEqual(started.Id, next.Id);
    }

    [Fact]
    public async Task StartAsync_WhileOneIsHalted_ThrowsNamingIt()
    {
        using var bed = FleetTestbed.Create(fixture);
        bed.Gateway.FailingGates[("master-1", "etcd.service")] = "unhealthy";
        var started = await bed.Admin.StartAsync(new RolloutRequest { All = true }, automatic: false, CancellationToken.None);
        await bed.RunAsync();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => bed.Admin.StartAsync(new RolloutRequest { All = true }, automatic: false, CancellationToken.None));

        Assert.Contains(started.Id, error.Message, StringComparison.Ordinal);
        Assert.Matches(@"^r-\d{8}-\d{6}-[0-9a-f]{4}$", started.Id);
    }

    [Fact]
    public async Task Run_CoordinatorRestartsMidStep_NewRunnerResumesAtTheFirstUnfinishedStep()
    {
        using var bed = FleetTestbed.Create(fixture);
        using var crash = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        bed.Gateway.BeforeRestart = async (node, unit, token) =>
        {
            if (node == "master-2" && unit == "kube-scheduler.service" && !bed.Gateway.Restarts.Any(r => r.Unit == unit && r.Node == node))
            {
                await crash.CancelAsync();
                token.ThrowIfCancellationRequested();
            }
        };
        var started = await bed.Admin.StartAsync(new RolloutRequest { All = true }, automatic: false, CancellationToken.None);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => bed.Runner.RunUnfinishedAsync(crash.Token));
        var installsBefore = bed.Gateway.SentSteps.Count;

        using var restarted = bed.Restart();
        await restarted.RunAsync();

        var rollout = await restarted.Admin.GetAsync(started.Id, CancellationToken.None);
        Assert.Equal(RolloutState.Completed, rollout.State);
        var restarts = bed.Gateway.Restarts;
        Assert.Equal(rollout.Steps.Count(s => s.Kind == StepKind.Restart), restarts.Count);
        Assert.Equal(restarts.Count, restarts.Select(r => r.StepId).Distinct().Count());
        var resent = rollout.Steps.Single(s => s is { Node: "master-2", Unit: "kube-scheduler.service" });
        Assert.Equal(2, bed.Gateway.SentSteps[$"{started.Id}/{resent.Sequence}"]);
        Assert.All(rollout.Steps.Where(s => s.Kind == StepKind.Install), s => Assert.Equal(1, bed.Gateway.SentSteps[$"{started.Id}/{s.Sequence}"]));
        Assert.True(installsBefore > 5);
        AssertRunbookOrder(restarts);
    }

    [Fact]
    public async Task Run_CoordinatorDiesAfterAnInstallBeforeRecordingIt_ResentStepSaysTheRenewalsWereAlreadyInstalled()
    {
        using var bed = FleetTestbed.Create(fixture);
        using var crash = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        bed.Gateway.AfterInstall = async (node, token) =>
        {
            if (node == "worker-1" && !crash.IsCancellationRequested)
            {
                await crash.CancelAsync();
                token.ThrowIfCancellationRequested();
            }
        };
        var started = await bed.Admin.StartAsync(new RolloutRequest { All = true }, automatic: false, CancellationToken.None);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => bed.Runner.RunUnfinishedAsync(crash.Token));

        using var restarted = bed.Restart();
        await restarted.RunAsync();

        var rollout = await restarted.Admin.GetAsync(started.Id, CancellationToken.None);
        Assert.Equal(RolloutState.Completed, rollout.State);
        var resent = rollout.Steps.Single(s => s is { Node: "worker-1", Kind: StepKind.Install });
        var planned = bed.Store.Targets(started.Id, "worker-1").Count;
        Assert.Equal(2, bed.Gateway.SentSteps[$"{started.Id}/{resent.Sequence}"]);
        Assert.Contains($"({planned} planned certificate(s) already held this rollout's renewal: an earlier attempt of this step installed it)",
            resent.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("no longer on the node", resent.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WatchAsync_RunningRollout_YieldsEveryChangeUntilCompleted()
    {
        using var bed = FleetTestbed.Create(fixture);
        var started = await bed.Admin.StartAsync(new RolloutRequest { All = true }, automatic: false, CancellationToken.None);
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(2));

        var watching = Task.Run(async () =>
        {
            var seen = new List<Rollout>();
            await foreach (var rollout in bed.Admin.WatchAsync(started.Id, limit.Token))
            {
                seen.Add(rollout);
            }
            return seen;
        });
        await bed.RunAsync();
        var seen = await watching.WaitAsync(limit.Token);

        Assert.Equal(RolloutState.Running, seen[0].State);
        Assert.Equal(RolloutState.Completed, seen[^1].State);
        Assert.True(seen.Count > 3, $"only {seen.Count} updates");
    }

    [Fact]
    public async Task VerifyFleetAsync_OneNodeDisconnected_ReportsItUnreachable()
    {
        using var bed = FleetTestbed.Create(fixture);
        bed.Gateway.Disconnected["worker-2"] = true;

        var all = await bed.Admin.VerifyFleetAsync(new VerifyFleetRequest(), CancellationToken.None);
        var named = await bed.Admin.VerifyFleetAsync(new VerifyFleetRequest { Node = "worker-2" }, CancellationToken.None);

        Assert.Equal(["master-1", "master-2", "master-3", "worker-1"], all.Nodes.Select(n => n.Node));
        Assert.All(all.Nodes, n => Assert.True(n.Reachable && n.Result.CertificatesChecked > 0, n.ToString()));
        var unreachable = Assert.Single(named.Nodes);
        Assert.False(unreachable.Reachable);
        Assert.Contains("not connected", unreachable.Error, StringComparison.Ordinal);
        await Assert.ThrowsAsync<KeyNotFoundException>(() => bed.Admin.VerifyFleetAsync(new VerifyFleetRequest { Node = "worker-9" }, CancellationToken.None));
    }

    private static string IssuerFile(ManifestRow row) =>
        row.Issuer == "CN=front-proxy-ca" ? "/etc/kubernetes/pki/front-proxy-ca.crt" : "/etc/kubernetes/pki/ca.crt";

    /// <summary>Control-plane units rank by rank across masters, one at a time; workers only after every master.</summary>
    private static void AssertRunbookOrder(IReadOnlyList<RecordedRestart> restarts)
    {
        var masters = restarts.Where(r => r.Node.StartsWith("master", StringComparison.Ordinal)).ToList();
        var ranks = masters.Select(r => Math.Min(RestartOrder.Rank(r.Unit), RestartOrder.Rank("kubelet"))).ToList();
        Assert.Equal(ranks.Order(), ranks);
        Assert.Equal(["etcd.service", "etcd.service", "etcd.service"], masters.Take(3).Select(r => r.Unit));
        Assert.Equal(["master-1", "master-2", "master-3"], masters.Take(3).Select(r => r.Node));
        Assert.True(restarts.Where(r => r.Node.StartsWith("worker", StringComparison.Ordinal)).Min(r => r.Ordinal) > masters.Max(r => r.Ordinal));
    }
}
