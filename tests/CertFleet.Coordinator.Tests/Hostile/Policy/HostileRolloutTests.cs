using CertFleet.Coordinator.Audit;
using CertFleet.Coordinator.Rollouts;
using CertFleet.Coordinator.Tests.Rollouts;
using CertFleet.Pki.Certificates;
using CertFleet.Pki.PemEncoding;
using CertFleet.Protocol.V1;
using CertFleet.Testing;
using Grpc.Core;

namespace CertFleet.Coordinator.Tests.Hostile.Policy;

/// <summary>
/// The signing policy inside a whole `renew --all` over fake agents on private copies of fixture nodes: a refused
/// certificate stays byte for byte as it was on the node, everything else is renewed, and the refusal is in the
/// plan, the rollout and the audit trail. And a node's word against the plan, over a real coordinator on 127.0.52.6
/// with enrolled test agents: a worker's claims never move its steps out of the worker phase, and an operator can
/// leave a node out (--exclude-node) or skip it to finish a halted rollout (--skip-node).
/// </summary>
public sealed class HostileRolloutTests(EcClusterPkiFixture fixture) : IClassFixture<EcClusterPkiFixture>
{
    private const string Pki = "/etc/kubernetes/pki";

    [Fact]
    public async Task RenewAll_WorkerHoldsStolenAdminCertificate_AdminNotRenewedKubeletRenewed()
    {
        using var bed = FleetTestbed.Create(fixture);
        var stolen = bed.HostPath("worker-1", $"{Pki}/admin.crt");
        File.Copy(Path.Combine(fixture.NodeRoot("master-1"), "etc/kubernetes/pki/admin.crt"), stolen);
        File.Copy(Path.Combine(fixture.NodeRoot("master-1"), "etc/kubernetes/pki/admin.key"), bed.HostPath("worker-1", $"{Pki}/admin.key"));
        var stolenBefore = File.ReadAllBytes(stolen);
        var kubelet = bed.HostPath("worker-1", $"{Pki}/worker-1.crt");
        var kubeletSerial = Openssl.Serial(kubelet);
        var kubeletSerialHex = SerialHex(kubelet);

        var plan = await bed.Admin.PlanAsync(new RolloutRequest { All = true }, CancellationToken.None);
        var started = await bed.Admin.StartAsync(new RolloutRequest { All = true }, automatic: false, CancellationToken.None);
        await bed.RunAsync();

        var refusal = Assert.Single(plan.Refused, r => r.Node == "worker-1");
        Assert.Equal(($"{Pki}/admin.crt", "CN=kubernetes-admin,O=system:masters"), (refusal.Path, refusal.Subject));
        Assert.Contains("only on nodes enrolled as masters, and worker-1 is a worker", refusal.Reason, StringComparison.Ordinal);
        var rollout = await bed.Admin.GetAsync(started.Id, CancellationToken.None);
        Assert.Equal(RolloutState.Completed, rollout.State);
        Assert.Contains(rollout.Refused, r => r.Node == "worker-1" && r.Path == $"{Pki}/admin.crt");
        Assert.Equal(stolenBefore, File.ReadAllBytes(stolen));
        Assert.NotEqual(kubeletSerial, Openssl.Serial(kubelet));
        Assert.Equal(0, Openssl.Verify(bed.HostPath("worker-1", $"{Pki}/ca.crt"), kubelet).ExitCode);
        // the same admin certificate on the master is renewed: the refusal is about who holds it, not what it is
        Assert.NotEqual(Openssl.Serial(Path.Combine(fixture.NodeRoot("master-1"), "etc/kubernetes/pki/admin.crt")), Openssl.Serial(bed.HostPath("master-1", $"{Pki}/admin.crt")));
        var audit = bed.Audit.Read("worker-1", null);
        Assert.Contains(audit, e => e.Kind == AuditKinds.Refused && e.Path == $"{Pki}/admin.crt" && e.Reason == refusal.Reason && e.RolloutId == started.Id);
        Assert.DoesNotContain(audit, e => e.Kind == AuditKinds.Issued && e.Subject.Contains("kubernetes-admin", StringComparison.Ordinal));
        Assert.Contains(audit, e => e.Kind == AuditKinds.Issued && e.Path == $"{Pki}/worker-1.crt" && e.PreviousSerial == kubeletSerialHex);
    }

    [Fact]
    public async Task RenewAll_AnotherNodesKubeletCertificateOnAWorker_RefusedAndLeftAsIs()
    {
        using var bed = FleetTestbed.Create(fixture);
        var copy = bed.HostPath("worker-1", $"{Pki}/worker-2.crt");
        File.Copy(Path.Combine(fixture.NodeRoot("worker-2"), "etc/kubernetes/pki/worker-2.crt"), copy);
        File.Copy(Path.Combine(fixture.NodeRoot("worker-2"), "etc/kubernetes/pki/worker-2.key"), bed.HostPath("worker-1", $"{Pki}/worker-2.key"));
        var before = File.ReadAllBytes(copy);

        var started = await bed.Admin.StartAsync(new RolloutRequest { All = true }, automatic: false, CancellationToken.None);
        await bed.RunAsync();

        var rollout = await bed.Admin.GetAsync(started.Id, CancellationToken.None);
        Assert.Equal(RolloutState.Completed, rollout.State);
        var refusal = Assert.Single(rollout.Refused, r => r.Node == "worker-1");
        Assert.Contains("kubelet identity of node worker-2, not of worker-1", refusal.Reason, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(copy));
        Assert.NotEqual(Openssl.Serial(Path.Combine(fixture.NodeRoot("worker-2"), "etc/kubernetes/pki/worker-2.crt")), Openssl.Serial(bed.HostPath("worker-2", $"{Pki}/worker-2.crt")));
        Assert.Contains(bed.Audit.Read("worker-1", null), e => e.Kind == AuditKinds.Refused && e.Path == $"{Pki}/worker-2.crt");
    }

    [Fact]
    public async Task RenewAll_CertificateFromAForeignCaOnAWorker_RefusedAndLeftAsIs()
    {
        using var bed = FleetTestbed.Create(fixture);
        var (der, key) = HostileRequests.FromForeignCa("worker-1", bed.Time.GetUtcNow());
        var foreign = bed.HostPath("worker-1", $"{Pki}/foreign.crt");
        using (key)
        {
            File.WriteAllText(foreign, Pem.Write("CERTIFICATE", der));
            File.WriteAllText(bed.HostPath("worker-1", $"{Pki}/foreign.key"), Pem.Write("PRIVATE KEY", key.ExportPkcs8PrivateKey()));
        }
        var before = File.ReadAllBytes(foreign);

        var plan = await bed.Admin.PlanAsync(new RolloutRequest { All = true }, CancellationToken.None);
        var started = await bed.Admin.StartAsync(new RolloutRequest { All = true }, automatic: false, CancellationToken.None);
        await bed.RunAsync();

        var refusal = Assert.Single(plan.Refused, r => r.Path == $"{Pki}/foreign.crt");
        Assert.Contains("not a CA this coordinator signs with", refusal.Reason, StringComparison.Ordinal);
        Assert.Equal(RolloutState.Completed, (await bed.Admin.GetAsync(started.Id, CancellationToken.None)).State);
        Assert.Equal(before, File.ReadAllBytes(foreign));
    }

    [Theory]
    [InlineData(Tamper.AnotherSubject)]
    [InlineData(Tamper.ExtraSan)]
    [InlineData(Tamper.AnotherKey)]
    [InlineData(Tamper.CaTrue)]
    [InlineData(Tamper.BrokenSignature)]
    [InlineData(Tamper.ExtraExtension)]
    public async Task RenewAll_AgentSendsHostileCsrForItsKubeletCertificate_ThatCertificateStaysTheRestIsRenewed(Tamper tamper)
    {
        using var bed = FleetTestbed.Create(fixture);
        bed.Gateway.TamperCsr = (node, entry, csr) =>
            node == "worker-1" && entry.Certificate.Subject.Contains("system:node:worker-1", StringComparison.Ordinal)
                ? HostileRequests.Make(tamper, entry.Certificate, entry.Key!)
                : csr;
        var kubelet = bed.HostPath("worker-1", $"{Pki}/worker-1.crt");
        var before = File.ReadAllBytes(kubelet);
        var proxySerial = Openssl.Serial(bed.HostPath("worker-1", $"{Pki}/kube-proxy.crt"));

        var started = await bed.Admin.StartAsync(new RolloutRequest { All = true }, automatic: false, CancellationToken.None);
        await bed.RunAsync();

        var rollout = await bed.Admin.GetAsync(started.Id, CancellationToken.None);
        Assert.Equal(RolloutState.Completed, rollout.State);
        Assert.Equal(before, File.ReadAllBytes(kubelet));
        Assert.NotEqual(proxySerial, Openssl.Serial(bed.HostPath("worker-1", $"{Pki}/kube-proxy.crt")));
        Assert.NotEqual(Openssl.Serial(Path.Combine(fixture.NodeRoot("worker-2"), "etc/kubernetes/pki/worker-2.crt")), Openssl.Serial(bed.HostPath("worker-2", $"{Pki}/worker-2.crt")));
        var install = Assert.Single(rollout.Steps, s => s.Kind == StepKind.Install && s.Node == "worker-1");
        Assert.Contains($"{Pki}/worker-1.crt refused: ", install.Message, StringComparison.Ordinal);
        Assert.Contains(HostileRequests.ExpectedReason(tamper), install.Message, StringComparison.Ordinal);
        var listed = Assert.Single(rollout.Refused, r => r.Node == "worker-1");
        Assert.Equal($"{Pki}/worker-1.crt", listed.Path);
        Assert.Contains(HostileRequests.ExpectedReason(tamper), listed.Reason, StringComparison.Ordinal);
        var refused = Assert.Single(bed.Audit.Read("worker-1", null), e => e.Kind == AuditKinds.Refused);
        Assert.Equal(($"{Pki}/worker-1.crt", started.Id), (refused.Path, refused.RolloutId));
        Assert.Contains(HostileRequests.ExpectedReason(tamper), refused.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(bed.Audit.Read("worker-1", null), e => e.Kind == AuditKinds.Issued && e.Path == $"{Pki}/worker-1.crt");
    }

    [Fact]
    public async Task RenewAll_WholeFleet_AuditTellsTheStoryInOrder()
    {
        using var bed = FleetTestbed.Create(fixture);

        var started = await bed.Admin.StartAsync(new RolloutRequest { All = true }, automatic: false, CancellationToken.None);
        await bed.RunAsync();

        var events = bed.Audit.Read(null, null);
        Assert.Equal(AuditKinds.RolloutStarted, events[0].Kind);
        Assert.Equal("admin", events[0].Actor);
        Assert.Equal(AuditKinds.RolloutCompleted, events[^1].Kind);
        Assert.True(events.Zip(events.Skip(1)).All(p => p.First.Sequence < p.Second.Sequence));
        Assert.All(events, e => Assert.Equal(started.Id, e.RolloutId));
        var kinds = events.Select(e => e.Kind).ToList();
        Assert.True(kinds.IndexOf(AuditKinds.Issued) < kinds.IndexOf(AuditKinds.Installed));
        Assert.True(kinds.LastIndexOf(AuditKinds.Installed) < kinds.IndexOf(AuditKinds.Restarted));
        Assert.Contains(events, e => e.Kind == AuditKinds.Restarted && e.Node == "master-1" && e.Path.StartsWith("etcd", StringComparison.Ordinal));
        Assert.Empty(bed.Audit.Read("no-such-node", null));
        Assert.Empty(bed.Audit.Read(null, bed.Time.GetUtcNow().AddSeconds(1)));
        Assert.All(events, e => Assert.DoesNotContain("PRIVATE KEY", e.ToString(), StringComparison.Ordinal));
        // kube-proxy's certificate is one certificate copied on every node: each node is audited with the serial it got
        var proxy = events.Where(e => e.Kind == AuditKinds.Issued && e.Subject == "CN=system:kube-proxy").ToList();
        Assert.Equal(bed.Gateway.NodeDirectories.Count, proxy.Select(e => e.Node).Distinct().Count());
        var installed = Openssl.Serial(bed.HostPath("worker-2", "/etc/kubernetes/pki/kube-proxy.crt"));
        Assert.All(proxy, e => Assert.Equal(installed.TrimStart('0'), e.Serial.TrimStart('0'), ignoreCase: true));
    }

    private const string Listen = "127.0.52.6:7443";

    private static readonly Dictionary<string, string> Fleet = new(StringComparer.Ordinal)
    {
        ["master-1"] = "master", ["worker-1"] = "worker", ["worker-2"] = "worker",
    };

    [Fact]
    public async Task Rollout_WorkerClaimsItsKubeProxyCertificateIsUsedByEtcd_ItsStepsRunOnlyInTheWorkerPhaseAndSkippingItFinishesTheRest()
    {
        await using var fleet = await EnrolledFleet.StartAsync(fixture, Listen, Fleet);
        fleet.Tamper = ClaimsEtcd;

        var plan = await fleet.Admin.PlanAsync(new RolloutRequest { All = true }, deadline: EnrolledFleet.Deadline());
        var claimed = Assert.Single(plan.Steps, s => s is { Kind: StepKind.Restart, Node: "worker-1", Unit: "etcd.service" });
        var masters = plan.Steps.Where(s => s is { Kind: StepKind.Restart, Node: "master-1" }).ToList();
        Assert.NotEmpty(masters);
        // after every master's restart, with the worker's own kubelet: the worker phase
        Assert.All(masters, s => Assert.True(s.Batch < claimed.Batch, $"{s.Unit} on master-1 (batch {s.Batch}) must come before worker-1's claimed etcd.service (batch {claimed.Batch})"));
        Assert.Equal(claimed.Batch, Assert.Single(plan.Steps, s => s is { Kind: StepKind.Restart, Node: "worker-1", Unit: "kubelet.service" }).Batch);

        var started = await fleet.Admin.StartRolloutAsync(new RolloutRequest { All = true }, deadline: EnrolledFleet.Deadline());
        var halted = await fleet.SettledAsync(started.Id);

        Assert.Equal(RolloutState.Halted, halted.State);
        Assert.Contains("etcd.service on worker-1 failed", halted.HaltReason, StringComparison.Ordinal);
        Assert.All(halted.Steps.Where(s => s.Node == "master-1"), s => Assert.Equal(StepState.Succeeded, s.State));
        Assert.All(halted.Steps.Where(s => s is { Node: "worker-2", Kind: StepKind.Restart }), s => Assert.Equal(StepState.Pending, s.State));
        var sentToWorker1 = fleet.Agents["worker-1"].Received.Count;

        var resumed = await fleet.Admin.ResumeRolloutAsync(new RolloutId { Id = started.Id, SkipNodes = { "worker-1" } }, deadline: EnrolledFleet.Deadline());
        var finished = await fleet.SettledAsync(started.Id);

        Assert.Equal(RolloutState.Completed, finished.State);
        Assert.All(finished.Steps.Where(s => s.Node == "worker-2"), s => Assert.Equal(StepState.Succeeded, s.State));
        Assert.NotEqual(Openssl.Serial(Path.Combine(fixture.NodeRoot("worker-2"), "etc/kubernetes/pki/worker-2.crt")),
            Openssl.Serial(fleet.Engine.NodeDirectories["worker-2"] + $"{Pki}/worker-2.crt"));
        // nothing more was asked of worker-1 than reports: its failed steps were not sent again
        Assert.DoesNotContain(fleet.Agents["worker-1"].Received.Skip(sentToWorker1), r => r.BodyCase != CoordinatorMessage.BodyOneofCase.InventoryRequest);
        var skipped = finished.Steps.Where(s => s is { Node: "worker-1", State: StepState.Skipped }).ToList();
        Assert.Contains(skipped, s => s is { Kind: StepKind.Restart, Unit: "etcd.service" });
        Assert.All(skipped, s => Assert.Contains("--skip-node worker-1", s.Message, StringComparison.Ordinal));
        Assert.DoesNotContain(resumed.Steps, s => s is { Node: "worker-1", State: StepState.Pending });
        var audit = await fleet.Admin.AuditAsync(new AuditRequest { Node = "worker-1" }, deadline: EnrolledFleet.Deadline());
        Assert.Contains(audit.Events, e => e.Kind == AuditKinds.RestartFailed && e.Path == "etcd.service" && e.RolloutId == started.Id);
        var skip = Assert.Single(audit.Events, e => e.Kind == AuditKinds.StepSkipped);
        Assert.Equal(("admin", started.Id), (skip.Actor, skip.RolloutId));
        Assert.Contains("--skip-node worker-1", skip.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plan_ExcludedNode_GetsNoStepsAndIsNotAskedAnything()
    {
        await using var fleet = await EnrolledFleet.StartAsync(fixture, Listen, Fleet);
        var asked = fleet.Agents["worker-1"].Received.Count;

        var plan = await fleet.Admin.PlanAsync(new RolloutRequest { All = true, ExcludeNodes = { "worker-1" } }, deadline: EnrolledFleet.Deadline());
        var started = await fleet.Admin.StartRolloutAsync(new RolloutRequest { All = true, ExcludeNodes = { "worker-1" } }, deadline: EnrolledFleet.Deadline());
        var finished = await fleet.SettledAsync(started.Id);

        Assert.DoesNotContain(plan.Steps, s => s.Node == "worker-1");
        Assert.DoesNotContain(plan.Certificates, c => c.Node == "worker-1");
        Assert.Contains(plan.Steps, s => s.Node == "worker-2");
        Assert.Contains(plan.Warnings, w => w.Contains("worker-1", StringComparison.Ordinal) && w.Contains("--exclude-node", StringComparison.Ordinal));
        Assert.Equal(RolloutState.Completed, finished.State);
        Assert.Equal(["worker-1"], finished.Request.ExcludeNodes);
        Assert.DoesNotContain(finished.Steps, s => s.Node == "worker-1");
        Assert.Empty(fleet.Agents["worker-1"].Received.Skip(asked));
        Assert.Equal(Openssl.Serial(Path.Combine(fixture.NodeRoot("worker-1"), "etc/kubernetes/pki/worker-1.crt")),
            Openssl.Serial(fleet.Engine.NodeDirectories["worker-1"] + $"{Pki}/worker-1.crt"));
    }

    [Fact]
    public async Task ExcludeAndSkip_NodeNamesThatMeanNothing_RefusedNamingThemAndNothingStarts()
    {
        await using var fleet = await EnrolledFleet.StartAsync(fixture, Listen, Fleet);

        var exclude = await EnrolledFleet.RefusalAsync(() => fleet.Admin.StartRolloutAsync(
            new RolloutRequest { All = true, ExcludeNodes = { "worker-9" } }, deadline: EnrolledFleet.Deadline()).ResponseAsync);
        fleet.Tamper = ClaimsEtcd;
        var started = await fleet.Admin.StartRolloutAsync(new RolloutRequest { All = true }, deadline: EnrolledFleet.Deadline());
        var halted = await fleet.SettledAsync(started.Id);
        var unknown = await EnrolledFleet.RefusalAsync(() => fleet.Admin.ResumeRolloutAsync(
            new RolloutId { Id = started.Id, SkipNodes = { "worker-9" } }, deadline: EnrolledFleet.Deadline()).ResponseAsync);
        var empty = await EnrolledFleet.RefusalAsync(() => fleet.Admin.ResumeRolloutAsync(
            new RolloutId { Id = started.Id, SkipNodes = { "" } }, deadline: EnrolledFleet.Deadline()).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, exclude.Code);
        Assert.Contains("--exclude-node worker-9: no node named worker-9 is enrolled", exclude.Detail, StringComparison.Ordinal);
        Assert.Equal(RolloutState.Halted, halted.State);
        Assert.Equal(StatusCode.InvalidArgument, unknown.Code);
        Assert.Contains($"--skip-node worker-9: rollout {started.Id} has no steps on a node named worker-9", unknown.Detail, StringComparison.Ordinal);
        Assert.Equal(StatusCode.InvalidArgument, empty.Code);
        Assert.Contains("--skip-node needs a node name", empty.Detail, StringComparison.Ordinal);
        var after = await fleet.Admin.GetRolloutAsync(new RolloutId { Id = started.Id }, deadline: EnrolledFleet.Deadline());
        Assert.Equal(halted, after);
    }

    /// <summary>
    /// worker-1 reports that its kube-proxy certificate is used by etcd.service, and its agent refuses that restart as
    /// the real agent does (it installed nothing etcd.service uses).
    /// </summary>
    private static AgentMessage ClaimsEtcd(string node, CoordinatorMessage request, AgentMessage honest)
    {
        if (node != "worker-1")
        {
            return honest;
        }
        if (honest.BodyCase == AgentMessage.BodyOneofCase.Inventory)
        {
            foreach (var certificate in honest.Inventory.Certificates.Where(c => c.Path.EndsWith("kube-proxy.crt", StringComparison.Ordinal) || c.UsedBy.Contains("kube-proxy.service")))
            {
                certificate.UsedBy.Clear();
                certificate.UsedBy.Add("etcd.service");
            }
        }
        if (request.BodyCase == CoordinatorMessage.BodyOneofCase.Restart && request.Restart.Unit == "etcd.service")
        {
            return new AgentMessage
            {
                StepResult = new StepResult
                {
                    StepId = request.Restart.StepId, Ok = false,
                    Message = $"unit etcd.service uses no certificate installed by rollout {request.Restart.RolloutId} on this node; refused",
                },
            };
        }
        return honest;
    }

    private static string SerialHex(string file) =>
        CertificateInfo.Parse(Pem.Read(File.ReadAllText(file), file).Single().Der, file).SerialHex;
}
