using CertFleet.Protocol.V1;
using CertFleet.Testing;

namespace CertFleet.Coordinator.Tests.Rollouts;

public sealed class KubeletRotationPlanTests(KubeletRotationPkiFixture fixture) : IClassFixture<KubeletRotationPkiFixture>
{
    [Fact]
    public async Task PlanAsync_KubeletRotatesItsOwnCertificates_RefusedAndLeftAlone()
    {
        using var bed = FleetTestbed.Create(fixture);

        var plan = await bed.Admin.PlanAsync(new RolloutRequest { All = true }, CancellationToken.None);

        var rotated = plan.Refused.Where(r => r.Reason.Contains("rotates this certificate itself", StringComparison.Ordinal)).Select(r => r.Node).Order();
        Assert.Equal(["master-1", "worker-1"], rotated);
        Assert.Contains(plan.Refused, r => r.Node == "worker-1" && r.Reason.Contains("self-signed serving certificate", StringComparison.Ordinal));
        Assert.DoesNotContain(plan.Certificates, c => c.Path.StartsWith("/var/lib/kubelet/pki/", StringComparison.Ordinal));
        Assert.Contains(plan.Certificates, c => c.Node == "worker-1" && c.Path == "/etc/kubernetes/pki/kube-proxy.crt");
    }
}
