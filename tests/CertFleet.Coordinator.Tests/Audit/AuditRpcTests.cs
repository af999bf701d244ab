using CertFleet.Coordinator.Audit;
using CertFleet.Coordinator.Tests.Support;
using CertFleet.Protocol.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace CertFleet.Coordinator.Tests.Audit;

/// <summary>The audit trail through the admin API of a real coordinator over gRPC/TLS; on 127.0.41.1.</summary>
public sealed class AuditRpcTests : IAsyncLifetime
{
    private TestCoordinator _coordinator = null!;

    public async Task InitializeAsync() => _coordinator = await TestCoordinator.StartAsync("127.0.41.1:7443");

    public async Task DisposeAsync() => await _coordinator.DisposeAsync();

    [Fact]
    public async Task Audit_TokenEnrollmentAndReusedToken_AllRecordedOldestFirstWithoutTheToken()
    {
        var token = await _coordinator.Admin().CreateTokenAsync(new CreateTokenRequest { Node = "worker-1" }, deadline: Deadline());
        await AgentIdentity.EnrollAsync(_coordinator.Agent(), token.Token, "worker-1");
        await Assert.ThrowsAsync<RpcException>(() => AgentIdentity.EnrollAsync(_coordinator.Agent(), token.Token, "worker-1"));

        var audit = await _coordinator.Admin().AuditAsync(new AuditRequest(), deadline: Deadline());

        Assert.Equal([AuditKinds.TokenCreated, AuditKinds.Enrolled, AuditKinds.EnrollmentRefused], audit.Events.Select(e => e.Kind));
        Assert.Equal(("admin", "agent:worker-1"), (audit.Events[0].Actor, audit.Events[1].Actor));
        Assert.Contains("already used", audit.Events[2].Reason, StringComparison.Ordinal);
        Assert.All(audit.Events, e => Assert.DoesNotContain(token.Token, e.ToString(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task Audit_ByNodeAndSince_OnlyMatchingEvents()
    {
        await _coordinator.Admin().CreateTokenAsync(new CreateTokenRequest { Node = "worker-2" }, deadline: Deadline());
        await _coordinator.Admin().CreateTokenAsync(new CreateTokenRequest { Node = "worker-3" }, deadline: Deadline());

        var forNode = await _coordinator.Admin().AuditAsync(new AuditRequest { Node = "worker-3" }, deadline: Deadline());
        var future = await _coordinator.Admin().AuditAsync(new AuditRequest { Since = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddMinutes(5)) }, deadline: Deadline());

        Assert.Equal("worker-3", Assert.Single(forNode.Events).Node);
        Assert.Empty(future.Events);
    }

    [Fact]
    public async Task Audit_NoAdminCredential_PermissionDenied()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => _coordinator.AdminWith(null).AuditAsync(new AuditRequest(), deadline: Deadline()).ResponseAsync);

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
    }

    private static DateTime Deadline() => DateTime.UtcNow.AddSeconds(30);
}
