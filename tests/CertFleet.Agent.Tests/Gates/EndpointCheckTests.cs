using CertFleet.Agent.Gates;
using CertFleet.Pki.Files;
using CertFleet.Testing;

namespace CertFleet.Agent.Tests.Gates;

public sealed class EndpointCheckTests(EcClusterPkiFixture pki) : IClassFixture<EcClusterPkiFixture>
{
    [Fact]
    public async Task RunAsync_NoCertificateFileForTheEndpoint_NotCheckedAndSaysSo()
    {
        var endpoint = new ServedEndpoint("127.0.20.3", 1, "/var/lib/kubelet/pki/kubelet.crt", "kubelet");

        var result = await EndpointCheck.RunAsync(new NodeRoot(pki.NodeRoot("worker-1")), [endpoint], CancellationToken.None);

        Assert.True(result.Healthy);
        Assert.Equal("kubelet 127.0.20.3:1: /var/lib/kubelet/pki/kubelet.crt does not exist on the node; not checked", result.Output);
    }

    [Fact]
    public async Task RunAsync_NothingListening_FailsNamingTheEndpoint()
    {
        var endpoint = new ServedEndpoint("127.0.20.3", 1, "/etc/kubernetes/pki/ca.crt", "kubelet");

        var result = await EndpointCheck.RunAsync(new NodeRoot(pki.NodeRoot("worker-1")), [endpoint], CancellationToken.None);

        Assert.False(result.Healthy);
        Assert.StartsWith("kubelet 127.0.20.3:1: no certificate presented (", result.Output);
    }
}
