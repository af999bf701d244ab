using CertFleet.Coordinator.Audit;
using CertFleet.Coordinator.Rollouts;
using CertFleet.Coordinator.Tests.Rollouts;
using CertFleet.Pki.Certificates;
using CertFleet.Pki.PemEncoding;
using CertFleet.Protocol.V1;
using CertFleet.Testing;

namespace CertFleet.Coordinator.Tests.Hostile.Policy;

/// <summary>
/// The signing policy inside a whole `renew --all` over fake agents on private copies of fixture nodes: a refused
/// certificate stays byte for byte as it was on the node, everything else is renewed, and the refusal is in the
/// plan, the rollout and the audit trail.
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
        Assert.Equal(RolloutStates.Completed, rollout.State);
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
        Assert.Equal(RolloutStates.Completed, rollout.State);
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
        Assert.Equal(RolloutStates.Completed, (await bed.Admin.GetAsync(started.Id, CancellationToken.None)).State);
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
        Assert.Equal(RolloutStates.Completed, rollout.State);
        Assert.Equal(before, File.ReadAllBytes(kubelet));
        Assert.NotEqual(proxySerial, Openssl.Serial(bed.HostPath("worker-1", $"{Pki}/kube-proxy.crt")));
        Assert.NotEqual(Openssl.Serial(Path.Combine(fixture.NodeRoot("worker-2"), "etc/kubernetes/pki/worker-2.crt")), Openssl.Serial(bed.HostPath("worker-2", $"{Pki}/worker-2.crt")));
        var install = Assert.Single(rollout.Steps, s => s.Kind == StepKinds.Install && s.Node == "worker-1");
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

    private static string SerialHex(string file) =>
        CertificateInfo.Parse(Pem.Read(File.ReadAllText(file), file).Single().Der, file).SerialHex;
}
