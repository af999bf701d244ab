using CertFleet.Testing;

namespace CertFleet.Pki.Tests;

public sealed class FixtureSmokeTests(EcClusterPkiFixture pki) : IClassFixture<EcClusterPkiFixture>
{
    [Fact]
    public void MakeClusterPki_EcCluster_WritesMasterCertificatesThatOpensslVerifies()
    {
        var pkiDir = Path.Combine(pki.NodeRoot("master-1"), "etc/kubernetes/pki");
        var result = Openssl.Verify(Path.Combine(pkiDir, "ca.crt"), Path.Combine(pkiDir, "apiserver.crt"));
        Assert.True(result.ExitCode == 0, result.Combined);
    }
}
