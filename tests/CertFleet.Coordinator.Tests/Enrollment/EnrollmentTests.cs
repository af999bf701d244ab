using System.Security.Cryptography;
using CertFleet.Coordinator.Enrollment;
using CertFleet.Coordinator.Tests.Support;
using CertFleet.Protocol.V1;
using CertFleet.Testing;
using Grpc.Core;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace CertFleet.Coordinator.Tests.Enrollment;

/// <summary>Enroll over real gRPC on 127.0.30.2, with a fake clock for expiry.</summary>
public sealed class EnrollmentTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private TestCoordinator _coordinator = null!;

    public async Task InitializeAsync() =>
        _coordinator = await TestCoordinator.StartAsync("127.0.30.2:7443", configure: s => s.AddSingleton<TimeProvider>(_time));

    public async Task DisposeAsync() => await _coordinator.DisposeAsync();

    [Fact]
    public async Task Enroll_ValidToken_ReturnsNodeCertificateChainingToFleetCa()
    {
        var token = await CreateTokenAsync("worker-1", "worker");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        // the CSR asks for more than a node identity; only its key may be used
        var response = await _coordinator.Agent().EnrollAsync(
            AgentIdentity.Request(token.Token, "worker-1", key, "CN=system:masters,O=system:masters"), deadline: Deadline());

        var folder = ScratchDirectory.Create("enroll");
        try
        {
            var certificateFile = Path.Combine(folder, "identity.crt");
            var caFile = Path.Combine(folder, "fleet-ca.crt");
            File.WriteAllText(certificateFile, PemEncoding.WriteString("CERTIFICATE", response.CertificateDer.Span));
            File.WriteAllText(caFile, PemEncoding.WriteString("CERTIFICATE", response.FleetCaDer.Span));
            Assert.Equal(0, Openssl.Verify(caFile, certificateFile).ExitCode);
            Assert.Equal("subject=CN=worker-1", Openssl.Subject(certificateFile));
            Assert.Contains("TLS Web Client Authentication", Openssl.Extension(certificateFile, "extendedKeyUsage"), StringComparison.Ordinal);
            Assert.Equal(key.ExportSubjectPublicKeyInfoPem().Trim(), Openssl.PublicKey(certificateFile).Trim());
            Assert.Equal("worker", response.Role);
            Assert.Equal(_coordinator.FleetCa.RawData, response.FleetCaDer.ToByteArray());
        }
        finally
        {
            ScratchDirectory.Delete(folder);
        }
        var status = await _coordinator.Admin().GetStatusAsync(new StatusRequest(), deadline: Deadline());
        var node = Assert.Single(status.Nodes, n => n.Name == "worker-1");
        Assert.Equal("worker", node.Role);
        Assert.False(node.Connected);
    }

    [Fact]
    public async Task Enroll_MasterToken_RecordsMasterRole()
    {
        var token = await CreateTokenAsync("", "master");

        await AgentIdentity.EnrollAsync(_coordinator.Agent(), token.Token, "master-7");

        var status = await _coordinator.Admin().GetStatusAsync(new StatusRequest(), deadline: Deadline());
        Assert.Equal("master", Assert.Single(status.Nodes, n => n.Name == "master-7").Role);
    }

    [Fact]
    public async Task Enroll_WrongToken_PermissionDeniedSayingItIsUnknown()
    {
        var error = await RefusedAsync("not-a-real-token", "worker-2");

        Assert.Contains("the token is not known to this coordinator", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Enroll_ExpiredToken_PermissionDeniedSayingWhenItExpired()
    {
        var token = await CreateTokenAsync("worker-3", "worker", ttlSeconds: 600);
        _time.Advance(TimeSpan.FromSeconds(601));

        var error = await RefusedAsync(token.Token, "worker-3");

        Assert.Contains($"the token expired at {token.ExpiresAt.ToDateTimeOffset():u}", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Enroll_TokenUsedTwice_SecondIsRefusedNamingTheFirstNode()
    {
        var token = await CreateTokenAsync("", "worker");
        await AgentIdentity.EnrollAsync(_coordinator.Agent(), token.Token, "worker-4");

        var error = await RefusedAsync(token.Token, "worker-5");

        Assert.Contains("the token was already used (by node worker-4", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Enroll_TokenForAnotherNode_RefusedNamingTheBoundNode()
    {
        var token = await CreateTokenAsync("worker-6", "worker");

        var error = await RefusedAsync(token.Token, "worker-66");

        Assert.Contains("the token was made for node worker-6, not worker-66", error.Status.Detail, StringComparison.Ordinal);
        // a refused attempt does not use the token up
        await AgentIdentity.EnrollAsync(_coordinator.Agent(), token.Token, "worker-6");
    }

    [Fact]
    public async Task Enroll_UnboundTokenForAnEnrolledNode_RefusedSoNoTokenTakesOverANode()
    {
        await AgentIdentity.EnrollAsync(_coordinator.Agent(), (await CreateTokenAsync("master-8", "master")).Token, "master-8");
        var unbound = await CreateTokenAsync("", "worker");

        var error = await RefusedAsync(unbound.Token, "master-8");

        Assert.Contains("node master-8 is already enrolled", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Enroll_WithoutTokenButWithCurrentIdentity_RenewsTheIdentity()
    {
        var identity = await AgentIdentity.EnrollAsync(_coordinator.Agent(), (await CreateTokenAsync("worker-9", "worker")).Token, "worker-9");
        _time.Advance(TimeSpan.FromDays(20));

        var renewed = await AgentIdentity.EnrollAsync(_coordinator.Agent(identity), "", "worker-9");

        Assert.True(renewed.NotAfter > identity.NotAfter.AddDays(19));
        Assert.Equal("CN=worker-9", renewed.Subject);
        var refused = await RefusedAsync("", "worker-10", _coordinator.Agent(identity));
        Assert.Contains("no token given", refused.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Enroll_InvalidNodeName_InvalidArgument()
    {
        var token = await CreateTokenAsync("", "worker");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            _coordinator.Agent().EnrollAsync(AgentIdentity.Request(token.Token, "Worker_1", key), deadline: Deadline()).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("'Worker_1' is not a valid node name", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateToken_Stored_OnlyAsSha256Hash()
    {
        var token = await CreateTokenAsync("worker-11", "worker");

        var hashes = new List<string>();
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(_coordinator.StateDirectory, "state.db")};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT hash FROM enrollment_tokens";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                hashes.Add(reader.GetString(0));
            }
        }
        Assert.Contains(Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token.Token))), hashes);
        Assert.True(token.Token.Length >= 22, "at least 128 bits");
        Assert.Matches("^[A-Za-z0-9_-]+$", token.Token);
        foreach (var file in Directory.GetFiles(_coordinator.StateDirectory, "state.db*"))
        {
            string text;
            try
            {
                text = File.ReadAllText(file, System.Text.Encoding.Latin1);
            }
            catch (FileNotFoundException)
            {
                continue; // SQLite removed its -wal or -shm when a connection closed: its pages are in state.db now
            }
            Assert.DoesNotContain(token.Token, text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task CreateToken_BadRoleOrTtl_InvalidArgumentNamingIt()
    {
        var role = await Assert.ThrowsAsync<RpcException>(() => CreateTokenAsync("", "boss"));
        var ttl = await Assert.ThrowsAsync<RpcException>(() => CreateTokenAsync("", "worker", ttlSeconds: -5));

        Assert.Equal(StatusCode.InvalidArgument, role.StatusCode);
        Assert.Contains("role 'boss' is neither master nor worker", role.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(StatusCode.InvalidArgument, ttl.StatusCode);
        Assert.Contains("time to live", ttl.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateToken_NoTtl_ExpiresInOneHour()
    {
        var token = await CreateTokenAsync("", "worker", ttlSeconds: 0);

        Assert.Equal(_time.GetUtcNow() + TokenStore.DefaultTimeToLive, token.ExpiresAt.ToDateTimeOffset());
    }

    private async Task<CreateTokenResponse> CreateTokenAsync(string node, string role, long ttlSeconds = 0) =>
        await _coordinator.Admin().CreateTokenAsync(new CreateTokenRequest { Node = node, Role = role, TtlSeconds = ttlSeconds }, deadline: Deadline());

    private async Task<RpcException> RefusedAsync(string token, string node, AgentService.AgentServiceClient? client = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            (client ?? _coordinator.Agent()).EnrollAsync(AgentIdentity.Request(token, node, key), deadline: Deadline()).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.StartsWith("enrollment refused: ", error.Status.Detail, StringComparison.Ordinal);
        return error;
    }

    private static DateTime Deadline() => DateTime.UtcNow.AddSeconds(20);
}
