using System.Net.Security;
using CertFleet.Agent.Enrollment;

namespace CertFleet.Agent.Tests.Enrollment;

public sealed class CoordinatorTrustTests
{
    private const SslPolicyErrors UntrustedRoot = SslPolicyErrors.RemoteCertificateChainErrors;

    [Fact]
    public void IsIssuedByFleetCa_StoredCa_AcceptedAndAnotherCaRejected()
    {
        using var fleet = TestCertificates.CreateCa("fleet");
        using var other = TestCertificates.CreateCa("fleet");
        using var server = TestCertificates.CreateServer(fleet, "127.0.20.1");
        using var impostor = TestCertificates.CreateServer(other, "127.0.20.1");

        Assert.True(CoordinatorTrust.IsIssuedByFleetCa(server, [], fleet, UntrustedRoot, out var reason), reason);
        Assert.False(CoordinatorTrust.IsIssuedByFleetCa(impostor, [other], fleet, UntrustedRoot, out reason));
        Assert.Contains("does not chain to the fleet CA stored at enrollment", reason);
    }
}
