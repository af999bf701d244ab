using CertFleet.Protocol.V1;
using CertFleet.Testing;

namespace CertFleet.Coordinator.Tests.Rollouts;

public sealed class KubeletRotationPlanTests(KubeletRotationPkiFixture fixture) : IClassFixture<KubeletRotationPkiFixture>
{
    [Fact]
    public async Task PlanAsync_KubeletRotatesItsClientCertificate_RefusedAndItsSelfSignedServingPairRenewedOnTheNode()
    {
        using var bed = FleetTestbed.Create(fixture);

        var plan = await bed.Admin.PlanAsync(new RolloutRequest { All = true }, CancellationToken.None);

        // the rotated client certificates are the kubelet's to renew: refused, and never planned
        var rotated = plan.Refused.Where(r => r.Reason.Contains("rotates this certificate itself", StringComparison.Ordinal)).Select(r => r.Node).Order();
        Assert.Equal(["master-1", "worker-1"], rotated);
        Assert.DoesNotContain(plan.Certificates, c => c.Path.StartsWith("/var/lib/kubelet/pki/kubelet-client", StringComparison.Ordinal));
        // the self-signed serving pair no CA signs: renewed by the node itself with its own key, not by the coordinator
        var serving = Assert.Single(plan.Certificates, c => c.Node == "worker-1" && c.Path == "/var/lib/kubelet/pki/kubelet.crt");
        Assert.True(serving.SelfSignedOnNode);
        Assert.DoesNotContain(plan.Certificates, c => c.Path.StartsWith("/var/lib/kubelet/pki/", StringComparison.Ordinal) && !c.SelfSignedOnNode);
        Assert.Contains(plan.Certificates, c => c.Node == "worker-1" && c.Path == "/etc/kubernetes/pki/kube-proxy.crt" && !c.SelfSignedOnNode);
    }
}
