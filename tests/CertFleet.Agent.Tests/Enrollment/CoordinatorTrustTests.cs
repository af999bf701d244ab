using System.Net.Security;
using CertFleet.Agent.Enrollment;

namespace CertFleet.Agent.Tests.Enrollment;

public sealed class CoordinatorTrustTests
{
    private const SslPolicyErrors UntrustedRoot = SslPolicyErrors.RemoteCertificateChainErrors;

    [Fact]
    public void IsPinned_ChainWithTheCaOfThePinnedHash_Accepted()
    {
        using var ca = TestCertificates.CreateCa("fleet");
        using var server = TestCertificates.CreateServer(ca, "127.0.20.1");

        var ok = CoordinatorTrust.IsPinned(server, [ca], CoordinatorTrust.SpkiHash(ca), UntrustedRoot, out var reason);

        Assert.True(ok, reason);
    }

    [Fact]
    public void IsPinned_HashOfAnotherCa_RejectedSayingTheHashIsNotInTheChain()
    {
        using var ca = TestCertificates.CreateCa("fleet");
        using var other = TestCertificates.CreateCa("other");
        using var server = TestCertificates.CreateServer(ca, "127.0.20.1");

        var ok = CoordinatorTrust.IsPinned(server, [ca], CoordinatorTrust.SpkiHash(other), UntrustedRoot, out var reason);

        Assert.False(ok);
        Assert.Contains("no certificate in the coordinator's chain has the pinned CA hash", reason);
    }

    [Fact]
    public void IsPinned_PinnedCaPresentedButServerIssuedByAnother_Rejected()
    {
        using var pinned = TestCertificates.CreateCa("fleet");
        using var impostor = TestCertificates.CreateCa("fleet");
        using var server = TestCertificates.CreateServer(impostor, "127.0.20.1");

        var ok = CoordinatorTrust.IsPinned(server, [pinned], CoordinatorTrust.SpkiHash(pinned), UntrustedRoot, out var reason);

        Assert.False(ok);
        Assert.Contains("did not issue the coordinator's certificate", reason);
    }

    [Fact]
    public void IsPinned_NameMismatch_RejectedEvenWithThePinnedCa()
    {
        using var ca = TestCertificates.CreateCa("fleet");
        using var server = TestCertificates.CreateServer(ca, "127.0.20.1");

        var ok = CoordinatorTrust.IsPinned(server, [ca], CoordinatorTrust.SpkiHash(ca), UntrustedRoot | SslPolicyErrors.RemoteCertificateNameMismatch, out var reason);

        Assert.False(ok);
        Assert.Contains("not for the address dialled", reason);
    }

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

    [Fact]
    public void IsPinnedFleetCa_ReturnedCaWithPinnedHashThatIssuedTheServer_Accepted()
    {
        using var ca = TestCertificates.CreateCa("fleet");
        using var server = TestCertificates.CreateServer(ca, "127.0.20.1");

        Assert.True(CoordinatorTrust.IsPinnedFleetCa(server, ca, CoordinatorTrust.SpkiHash(ca), out var reason), reason);
    }

    [Fact]
    public void IsPinnedFleetCa_PinnedCaReturnedByAServerItDidNotIssue_RejectedSayingSo()
    {
        using var pinned = TestCertificates.CreateCa("fleet");
        using var impostor = TestCertificates.CreateCa("fleet");
        using var server = TestCertificates.CreateServer(impostor, "127.0.20.1");

        Assert.False(CoordinatorTrust.IsPinnedFleetCa(server, pinned, CoordinatorTrust.SpkiHash(pinned), out var reason));
        Assert.Contains("was not issued by the fleet CA with the pinned hash", reason);
        Assert.False(CoordinatorTrust.IsPinnedFleetCa(server, impostor, CoordinatorTrust.SpkiHash(pinned), out reason));
        Assert.Contains("does not have the pinned hash", reason);
    }
}
