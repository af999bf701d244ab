using CertFleet.Coordinator.Rollouts;
using CertFleet.Protocol.V1;
using CertFleet.Testing;

namespace CertFleet.Coordinator.Tests.Rollouts;

public sealed class RolloutPlannerTests(EcClusterPkiFixture fixture, CenturyCaPkiFixture century)
    : IClassFixture<EcClusterPkiFixture>, IClassFixture<CenturyCaPkiFixture>
{
    private static readonly string[] MasterAgents = ["kubelet.service", "kube-proxy.service"];

    [Fact]
    public async Task PlanAsync_ThreeMastersTwoWorkers_InstallsEverywhereThenRestartsInRunbookOrder()
    {
        using var bed = FleetTestbed.Create(fixture);

        var plan = await bed.Admin.PlanAsync(new RolloutRequest { All = true }, CancellationToken.None);

        var steps = plan.Steps.Select(s => $"{s.Batch} {s.Kind.ToText()} {s.Node} {s.Unit}".TrimEnd()).ToList();
        string[] masters = ["master-1", "master-2", "master-3"];
        var expected = new List<string>();
        expected.AddRange(masters.Concat(["worker-1", "worker-2"]).Select(n => $"1 install {n}"));
        var batch = 1;
        foreach (var unit in new[] { "etcd.service", "kube-apiserver.service", "kube-controller-manager.service", "kube-scheduler.service" })
        {
            expected.AddRange(masters.Select(m => $"{++batch} restart {m} {unit}"));
        }
        expected.AddRange(masters.SelectMany(m => MasterAgents.Select(u => $"{++batch} restart {m} {u}")));
        // 2 workers: 10 % is less than one, so batches of one worker with all its units
        foreach (var worker in new[] { "worker-1", "worker-2" })
        {
            batch++;
            expected.AddRange(MasterAgents.Select(u => $"{batch} restart {worker} {u}"));
        }
        Assert.Equal(expected, steps);
        Assert.Equal(Enumerable.Range(1, steps.Count), plan.Steps.Select(s => s.Sequence));
    }

    [Fact]
    public async Task PlanAsync_ExpiringWithinTheLongestDuration_PlansWhatAllPlans()
    {
        using var bed = FleetTestbed.Create(fixture);

        // `plan --expiring-within 10675199d2h48m5s`: now + that is past year 9999, which threw before
        var longest = await bed.Admin.PlanAsync(new RolloutRequest { ExpiringWithinSeconds = 922_337_203_685 }, CancellationToken.None);
        var all = await bed.Admin.PlanAsync(new RolloutRequest { All = true }, CancellationToken.None);

        Assert.NotEmpty(longest.Certificates);
        Assert.Equal(all.Certificates.Select(c => (c.Node, c.Path, c.KubeconfigUser)), longest.Certificates.Select(c => (c.Node, c.Path, c.KubeconfigUser)));
    }

    [Fact]
    public async Task PlanAsync_BatchOfTwo_BothWorkersRestartTogether()
    {
        using var bed = FleetTestbed.Create(fixture);

        var plan = await bed.Admin.PlanAsync(new RolloutRequest { All = true, BatchSize = 2 }, CancellationToken.None);

        var workerSteps = plan.Steps.Where(s => s.Node.StartsWith("worker", StringComparison.Ordinal) && s.Kind == StepKind.Restart).ToList();
        Assert.Equal(4, workerSteps.Count);
        Assert.Single(workerSteps.Select(s => s.Batch).Distinct());
        Assert.True(workerSteps[0].Batch > plan.Steps.Where(s => s.Node.StartsWith("master", StringComparison.Ordinal)).Max(s => s.Batch));
    }

    [Fact]
    public async Task PlanAsync_ForeignCaAndMissingKey_RefusedWithReasons()
    {
        using var bed = FleetTestbed.Create(fixture, authorities: ["ca"]);
        File.Delete(bed.HostPath("master-1", "/etc/kubernetes/pki/etcd-server.key"));

        var plan = await bed.Admin.PlanAsync(new RolloutRequest { All = true }, CancellationToken.None);

        var frontProxy = plan.Refused.Where(r => r.Path == "/etc/kubernetes/pki/front-proxy-client.crt").ToList();
        Assert.Equal(3, frontProxy.Count);
        Assert.All(frontProxy, r => Assert.Contains("CN=front-proxy-ca, which is not a CA this coordinator signs with", r.Reason, StringComparison.Ordinal));
        var noKey = Assert.Single(plan.Refused, r => r.Node == "master-1" && r.Path == "/etc/kubernetes/pki/etcd-server.crt");
        Assert.Contains("no private key", noKey.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(plan.Certificates, c => c.Path.Contains("front-proxy-client", StringComparison.Ordinal));
        Assert.DoesNotContain(plan.Certificates, c => c.Node == "master-1" && c.Path == "/etc/kubernetes/pki/etcd-server.crt");
        Assert.Contains(plan.Certificates, c => c.Node == "master-2" && c.Path == "/etc/kubernetes/pki/etcd-server.crt");
    }

    [Fact]
    public async Task PlanAsync_ExpiringWithin_SelectsOnlyLeavesExpiringInTime()
    {
        using var bed = FleetTestbed.Create(fixture);

        // the fixture's leaves expire in 10 days, its CAs in 30
        var fiveDays = await bed.Admin.PlanAsync(new RolloutRequest { ExpiringWithinSeconds = (long)TimeSpan.FromDays(5).TotalSeconds }, CancellationToken.None);
        var twentyDays = await bed.Admin.PlanAsync(new RolloutRequest { ExpiringWithinSeconds = (long)TimeSpan.FromDays(20).TotalSeconds }, CancellationToken.None);
        bed.Time.Advance(TimeSpan.FromDays(6));
        var fiveDaysLater = await bed.Admin.PlanAsync(new RolloutRequest { ExpiringWithinSeconds = (long)TimeSpan.FromDays(5).TotalSeconds }, CancellationToken.None);

        Assert.Empty(fiveDays.Certificates);
        Assert.Empty(fiveDays.Steps);
        var manifestLeaves = fixture.Manifest().Count(r => r.Subject != r.Issuer);
        Assert.Equal(manifestLeaves, twentyDays.Certificates.Count);
        Assert.DoesNotContain(twentyDays.Certificates, c => c.IsAuthority);
        Assert.Equal(manifestLeaves, fiveDaysLater.Certificates.Count);
    }

    [Fact]
    public async Task PlanAsync_WithoutCa_WarnsThatTheCaExpiresFirst()
    {
        using var bed = FleetTestbed.Create(fixture);

        var plan = await bed.Admin.PlanAsync(new RolloutRequest { All = true }, CancellationToken.None);

        Assert.Contains(plan.Warnings, w => w.Contains("CA CN=kubernetes expires on", StringComparison.Ordinal) && w.Contains("renew with --ca", StringComparison.Ordinal));
        Assert.DoesNotContain(plan.Steps, s => s.Kind == StepKind.RenewCa);
    }

    [Fact]
    public async Task PlanAsync_WithCa_RenewsCasFirstAndReplacesEveryCopy()
    {
        using var bed = FleetTestbed.Create(fixture);

        var plan = await bed.Admin.PlanAsync(new RolloutRequest { All = true, RenewAuthorities = true }, CancellationToken.None);

        var first = plan.Steps[0];
        Assert.Equal((1, StepKind.RenewCa), (first.Batch, first.Kind));
        Assert.Equal(2, plan.Certificates.Count(c => c.IsAuthority && c.Node == RolloutPlanner.CoordinatorNode));
        var caCopies = plan.Certificates.Where(c => c.IsAuthority && c.Path == "/etc/kubernetes/pki/ca.crt").Select(c => c.Node).Order();
        Assert.Equal(["master-1", "master-2", "master-3", "worker-1", "worker-2"], caCopies);
        Assert.Empty(plan.Warnings);
    }

    [Fact]
    public async Task PlanAsync_CaWithACenturyLeftAndCaDays3650_ShowsItsNotAfterKeptAsTheRolloutWritesIt()
    {
        using var bed = FleetTestbed.Create(century);
        var original = Path.Combine(century.NodeRoot("master-1"), "etc/kubernetes/pki/ca.crt");
        var notAfter = bed.Authorities.All.Single(a => a.Certificate.Subject == "CN=kubernetes").Certificate.NotAfter;
        var request = new RolloutRequest { All = true, RenewAuthorities = true, AuthorityDays = 3650 };

        var plan = await bed.Admin.PlanAsync(request, CancellationToken.None);
        var started = await bed.Admin.StartAsync(request, automatic: false, CancellationToken.None);
        await bed.RunAsync();

        var planned = plan.Certificates.Where(c => c.IsAuthority && c.Subject == "CN=kubernetes").ToList();
        Assert.Equal([RolloutPlanner.CoordinatorNode, "master-1", "worker-1"], planned.Select(c => c.Node).Order(StringComparer.Ordinal));
        Assert.All(planned, c => Assert.Equal(notAfter, c.NewNotAfter.ToDateTimeOffset()));
        Assert.Equal(RolloutState.Completed, (await bed.Admin.GetAsync(started.Id, CancellationToken.None)).State);
        foreach (var node in new[] { "master-1", "worker-1" })
        {
            var ca = bed.HostPath(node, "/etc/kubernetes/pki/ca.crt");
            Assert.NotEqual(Openssl.Serial(original), Openssl.Serial(ca));
            Assert.Equal(Openssl.EndDate(original), Openssl.EndDate(ca));
        }
    }
}
