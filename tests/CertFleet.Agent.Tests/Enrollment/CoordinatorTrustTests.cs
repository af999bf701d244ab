using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CertFleet.Agent.Enrollment;

namespace CertFleet.Agent.Tests.Enrollment;

public sealed class CoordinatorTrustTests
{
    private static readonly Uri Dialled = new("https://127.0.20.1:7443");

    [Fact]
    public void IsCoordinator_StoredCa_AcceptedAndAnotherCaRejected()
    {
        using var fleet = TestCertificates.CreateCa("fleet");
        using var other = TestCertificates.CreateCa("fleet");
        using var server = TestCertificates.CreateServer(fleet, "127.0.20.1");
        using var impostor = TestCertificates.CreateServer(other, "127.0.20.1");

        Assert.True(CoordinatorTrust.IsCoordinator(server, [], fleet, Dialled, out var reason), reason);
        Assert.False(CoordinatorTrust.IsCoordinator(impostor, [other], fleet, Dialled, out reason));
        Assert.Contains("was not issued by the fleet CA", reason);
    }

    [Fact]
    public void IsCoordinator_ServerCertificateForAnotherAddress_RejectedNamingWhatItNames()
    {
        using var fleet = TestCertificates.CreateCa("fleet");
        using var server = TestCertificates.CreateServer(fleet, "127.0.20.9");

        Assert.False(CoordinatorTrust.IsCoordinator(server, [], fleet, Dialled, out var reason));
        Assert.Contains("does not name 127.0.20.1 (it names 127.0.20.9)", reason);
    }

    [Fact]
    public void IsCoordinator_ANodesClientIdentityWhoseCnIsTheDialledHost_Rejected()
    {
        using var fleet = TestCertificates.CreateCa("fleet");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = new CertificateRequest("CN=127.0.20.1", key, HashAlgorithmName.SHA256).CreateSigningRequest();
        using var identity = TestCertificates.IssueClient(fleet, csr, "127.0.20.1");

        Assert.False(CoordinatorTrust.IsCoordinator(identity, [], fleet, Dialled, out var reason));
        Assert.Contains("not a server certificate", reason);
    }
}
