using System.Security.Cryptography;
using CertFleet.Coordinator.Tests.Support;
using CertFleet.Protocol.V1;
using Google.Protobuf;
using Grpc.Core;

namespace CertFleet.Coordinator.Tests.Hostile.Enrollment;

/// <summary>
/// Enroll is the one call anybody can make without a credential. Against the real coordinator on 127.0.50.1 over
/// real gRPC: nothing an unauthenticated caller sends is worked on or recorded before it is bounded and its token
/// checked; failures are rate-limited per peer; a name is taken once, by one enrollment.
/// </summary>
public sealed class HostileEnrollmentTests : IAsyncLifetime
{
    private TestCoordinator _coordinator = null!;

    public async Task InitializeAsync() => _coordinator = await TestCoordinator.StartAsync("127.0.50.1:7443");

    public async Task DisposeAsync() => await _coordinator.DisposeAsync();

    [Fact]
    public async Task Enroll_NineMegabyteNodeNameWithoutAnyCredential_RefusedAndTheAuditTrailStaysReadable()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = AgentIdentity.Request("x", "worker-1", key);
        request.Node = new string('a', 9 * 1024 * 1024);

        var error = await Assert.ThrowsAsync<RpcException>(() => _coordinator.Agent().EnrollAsync(request, deadline: Deadline()).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.True(error.Status.Detail.Length < 300, error.Status.Detail);
        var audit = await _coordinator.Admin().AuditAsync(new AuditRequest(), deadline: Deadline());
        var refused = Assert.Single(audit.Events, e => e.Kind == "enrollment-refused");
        Assert.True(refused.CalculateSize() < 2048, $"audit row of {refused.CalculateSize()} bytes");
        Assert.Equal("", refused.Node);
    }

    [Fact]
    public async Task Enroll_UnknownTokenAndAMalformedCsr_RefusedForTheTokenBeforeTheCsrIsLookedAt()
    {
        var request = new EnrollRequest { Token = "not-a-token", Node = "worker-1", CsrDer = ByteString.CopyFrom(new byte[] { 0x30, 0x03, 0x02, 0x01, 0x00 }) };

        var error = await Assert.ThrowsAsync<RpcException>(() => _coordinator.Agent().EnrollAsync(request, deadline: Deadline()).ResponseAsync);

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.Contains("the token is not known to this coordinator", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Enroll_FiftyBogusCallsFromOnePeer_RateLimitedAndOnlyTheFirstFewRecorded()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var codes = new List<StatusCode>();
        for (var i = 0; i < 50; i++)
        {
            var error = await Assert.ThrowsAsync<RpcException>(() =>
                _coordinator.Agent().EnrollAsync(AgentIdentity.Request($"bogus-{i}", "worker-1", key), deadline: Deadline()).ResponseAsync);
            codes.Add(error.StatusCode);
        }

        Assert.Equal(StatusCode.PermissionDenied, codes[0]);
        Assert.Equal(StatusCode.ResourceExhausted, codes[^1]);
        var audit = await _coordinator.Admin().AuditAsync(new AuditRequest(), deadline: Deadline());
        var recorded = audit.Events.Count(e => e.Kind == "enrollment-refused");
        Assert.InRange(recorded, 1, 6);

        // the rate limit is on failures: a real token from the same address still enrolls
        var token = await _coordinator.Admin().CreateTokenAsync(new CreateTokenRequest { Node = "worker-1" }, deadline: Deadline());
        var enrolled = await _coordinator.Agent().EnrollAsync(AgentIdentity.Request(token.Token, "worker-1", key), deadline: Deadline());
        Assert.Equal("worker", enrolled.Role);
    }

    [Fact]
    public async Task Enroll_UnboundTokensRaceForNewNames_EachNameEnrolledExactlyOnce()
    {
        const int names = 8;
        const int racers = 12;
        var tokens = new List<(string Node, string Token)>();
        for (var i = 0; i < names * racers; i++)
        {
            tokens.Add(($"worker-race-{i % names}", (await _coordinator.Admin().CreateTokenAsync(new CreateTokenRequest(), deadline: Deadline())).Token));
        }
        using var start = new ManualResetEventSlim();
        var attempts = tokens.Select(t => Task.Run(async () =>
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = AgentIdentity.Request(t.Token, t.Node, key);
            // one channel (so one connection) each, as separate agents would dial
            var client = _coordinator.Agent();
            start.Wait();
            try
            {
                await client.EnrollAsync(request, deadline: Deadline());
                return t.Node;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.PermissionDenied)
            {
                Assert.Contains("already enrolled", e.Status.Detail, StringComparison.Ordinal);
                return null;
            }
        })).ToList();
        start.Set();

        var enrolled = (await Task.WhenAll(attempts)).OfType<string>().ToList();

        Assert.Equal(Enumerable.Range(0, names).Select(i => $"worker-race-{i}").Order(), enrolled.Order());
        var audit = await _coordinator.Admin().AuditAsync(new AuditRequest(), deadline: Deadline());
        Assert.Equal(names, audit.Events.Count(e => e.Kind == "enrolled"));
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("certfleet-coordinator")]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.50.1")]
    public async Task Enroll_UnboundTokenForAReservedOrTheCoordinatorsOwnName_Refused(string node)
    {
        var token = await _coordinator.Admin().CreateTokenAsync(new CreateTokenRequest(), deadline: Deadline());
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            _coordinator.Agent().EnrollAsync(AgentIdentity.Request(token.Token, node, key), deadline: Deadline()).ResponseAsync);

        Assert.Contains(node, error.Status.Detail, StringComparison.Ordinal);
        var status = await _coordinator.Admin().GetStatusAsync(new StatusRequest(), deadline: Deadline());
        Assert.Empty(status.Nodes);
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("certfleet-coordinator")]
    public async Task TokenCreate_ReservedName_RefusedNamingIt(string node)
    {
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            _coordinator.Admin().CreateTokenAsync(new CreateTokenRequest { Node = node }, deadline: Deadline()).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains($"'{node}' is reserved", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Enroll_TokenMadeForTheCoordinatorsOwnHostName_Enrolls()
    {
        // the coordinator often runs on a master whose node name is the host it listens on: the operator says so
        var token = await _coordinator.Admin().CreateTokenAsync(new CreateTokenRequest { Node = "127.0.50.1", Role = "master" }, deadline: Deadline());
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var enrolled = await _coordinator.Agent().EnrollAsync(AgentIdentity.Request(token.Token, "127.0.50.1", key), deadline: Deadline());

        Assert.Equal("master", enrolled.Role);
    }

    [Fact]
    public async Task Enroll_NodeRenewsItsIdentityInALoop_OnlyTheFirstFewAreIssued()
    {
        var token = await _coordinator.Admin().CreateTokenAsync(new CreateTokenRequest { Node = "worker-1" }, deadline: Deadline());
        var identity = await AgentIdentity.EnrollAsync(_coordinator.Agent(), token.Token, "worker-1");
        var outcomes = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            try
            {
                var renewed = await _coordinator.Agent(identity).EnrollAsync(AgentIdentity.Request("", "worker-1", key), deadline: Deadline());
                using var certificate = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(renewed.CertificateDer.ToByteArray());
                identity = System.Security.Cryptography.X509Certificates.ECDsaCertificateExtensions.CopyWithPrivateKey(certificate, key);
                outcomes.Add("renewed");
            }
            catch (RpcException e)
            {
                outcomes.Add(e.Status.Detail);
            }
        }

        Assert.Equal(3, outcomes.Count(o => o == "renewed"));
        Assert.Contains("renewed its identity 3 times lately", outcomes[3], StringComparison.Ordinal);
    }

    private static DateTime Deadline() => DateTime.UtcNow.AddSeconds(30);
}
