using CertFleet.Coordinator.Tests.Support;
using CertFleet.Protocol.V1;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace CertFleet.Coordinator.Tests.Identity;

/// <summary>One live identity per node, renewal with the current identity only, and node removal; on 127.0.46.1.</summary>
public sealed class IdentityLifecycleTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private TestCoordinator _coordinator = null!;

    public async Task InitializeAsync() =>
        _coordinator = await TestCoordinator.StartAsync("127.0.46.1:7443", configure: s => s.AddSingleton<TimeProvider>(_time));

    public async Task DisposeAsync() => await _coordinator.DisposeAsync();

    [Fact]
    public async Task Connect_IdentityFromBeforeAReEnrollment_RefusedNamingItsSerial()
    {
        var first = await EnrollAsync("worker-1");
        var second = await EnrollAsync("worker-1");

        var error = await ConnectRefusedAsync(first, "worker-1");

        Assert.Contains($"serial {first.SerialNumber}) was replaced when node worker-1 enrolled again", error.Status.Detail, StringComparison.Ordinal);
        await using var agent = await TestAgent.ConnectAsync(_coordinator.Agent(second), "worker-1", new InventoryReport(), _ => null);
        await Eventually.True(async () => (await StatusAsync()).Nodes.Single(n => n.Name == "worker-1").Connected, "worker-1 shows as connected");
    }

    [Fact]
    public async Task Enroll_RenewalWithTheReplacedIdentityAfterTheNewOneConnected_RefusedAndTheRenewedOneStaysTheOnlyLiveOne()
    {
        var first = await EnrollAsync("worker-2");
        _time.Advance(TimeSpan.FromDays(21));
        var renewed = await AgentIdentity.EnrollAsync(_coordinator.Agent(first), "", "worker-2");
        await using (var agent = await TestAgent.ConnectAsync(_coordinator.Agent(renewed), "worker-2", new InventoryReport(), _ => null))
        {
            await Eventually.True(async () => (await StatusAsync()).Nodes.Single(n => n.Name == "worker-2").Connected, "worker-2 connects");
        }

        var again = await Assert.ThrowsAsync<RpcException>(() => AgentIdentity.EnrollAsync(_coordinator.Agent(first), "", "worker-2"));
        var connect = await ConnectRefusedAsync(first, "worker-2");

        Assert.Equal(StatusCode.PermissionDenied, again.StatusCode);
        Assert.Contains("is no longer node worker-2's", again.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("was replaced", connect.Status.Detail, StringComparison.Ordinal);
        Assert.NotEqual(first.SerialNumber, renewed.SerialNumber);
        Assert.Equal(TimeSpan.FromDays(30), renewed.NotAfter - renewed.NotBefore - TimeSpan.FromMinutes(5));
    }

    [Fact]
    public async Task Enroll_RenewalAnswerLost_TheReplacedIdentityMayAskAgainAndOnlyTheNewestConnects()
    {
        var first = await EnrollAsync("worker-7");
        _time.Advance(TimeSpan.FromDays(21));
        var lost = await AgentIdentity.EnrollAsync(_coordinator.Agent(first), "", "worker-7"); // the agent never stored it

        var retried = await AgentIdentity.EnrollAsync(_coordinator.Agent(first), "", "worker-7");

        Assert.NotEqual(lost.SerialNumber, retried.SerialNumber);
        Assert.Contains("was replaced", (await ConnectRefusedAsync(lost, "worker-7")).Status.Detail, StringComparison.Ordinal);
        Assert.Contains("was replaced", (await ConnectRefusedAsync(first, "worker-7")).Status.Detail, StringComparison.Ordinal);
        await using var agent = await TestAgent.ConnectAsync(_coordinator.Agent(retried), "worker-7", new InventoryReport(), _ => null);
        await Eventually.True(async () => (await StatusAsync()).Nodes.Single(n => n.Name == "worker-7").Connected, "worker-7 connects");
        var late = await Assert.ThrowsAsync<RpcException>(() => AgentIdentity.EnrollAsync(_coordinator.Agent(first), "", "worker-7"));
        Assert.Contains("is no longer node worker-7's", late.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RemoveNode_ConnectedAgent_StreamEndsAndItIsRefusedAtConnectAndAtRenewal()
    {
        var identity = await EnrollAsync("worker-3");
        var agent = await TestAgent.ConnectAsync(_coordinator.Agent(identity), "worker-3", new InventoryReport(), _ => null);
        await Eventually.True(async () => (await StatusAsync()).Nodes.Single(n => n.Name == "worker-3").Connected, "worker-3 shows as connected");

        var response = await _coordinator.Admin().RemoveNodeAsync(new RemoveNodeRequest { Node = "worker-3" }, deadline: Deadline());

        Assert.True(response.Removed);
        await agent.Completion.WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { });
        await agent.DisposeAsync();
        Assert.DoesNotContain((await StatusAsync()).Nodes, n => n.Name == "worker-3");
        var connect = await ConnectRefusedAsync(identity, "worker-3");
        Assert.Contains("node worker-3 is not enrolled here (removed?)", connect.Status.Detail, StringComparison.Ordinal);
        var renewal = await Assert.ThrowsAsync<RpcException>(() => AgentIdentity.EnrollAsync(_coordinator.Agent(identity), "", "worker-3"));
        Assert.Equal(StatusCode.PermissionDenied, renewal.StatusCode);
        Assert.Contains("no token given", renewal.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RemoveNode_UnknownNodeOrNoName_SaysSo()
    {
        var unknown = await _coordinator.Admin().RemoveNodeAsync(new RemoveNodeRequest { Node = "worker-404" }, deadline: Deadline());
        var empty = await Assert.ThrowsAsync<RpcException>(() =>
            _coordinator.Admin().RemoveNodeAsync(new RemoveNodeRequest(), deadline: Deadline()).ResponseAsync);

        Assert.False(unknown.Removed);
        Assert.Equal(StatusCode.InvalidArgument, empty.StatusCode);
        Assert.Contains("needs a node name", empty.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RemoveNode_AgentCredential_PermissionDeniedAndTheNodeStays()
    {
        var identity = await EnrollAsync("worker-5");

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            _coordinator.AdminWith(identity).RemoveNodeAsync(new RemoveNodeRequest { Node = "worker-5" }, deadline: Deadline()).ResponseAsync);

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.Contains((await StatusAsync()).Nodes, n => n.Name == "worker-5");
    }

    [Fact]
    public async Task Connect_HelloNamingAnotherNode_RefusedAndNothingReportedForEither()
    {
        var identity = await EnrollAsync("worker-6");
        await EnrollAsync("master-6");

        var error = await ConnectRefusedAsync(identity, "master-6", new InventoryReport { Errors = { new ReportedError { Path = "/x", Message = "forged" } } });

        Assert.Contains("the hello names node master-6 but the client certificate is node worker-6's", error.Status.Detail, StringComparison.Ordinal);
        var status = await StatusAsync();
        Assert.All(status.Nodes.Where(n => n.Name is "worker-6" or "master-6"), n => Assert.Null(n.LastReport));
    }

    private async Task<System.Security.Cryptography.X509Certificates.X509Certificate2> EnrollAsync(string node)
    {
        var token = await _coordinator.Admin().CreateTokenAsync(new CreateTokenRequest { Node = node }, deadline: Deadline());
        return await AgentIdentity.EnrollAsync(_coordinator.Agent(), token.Token, node);
    }

    private async Task<RpcException> ConnectRefusedAsync(System.Security.Cryptography.X509Certificates.X509Certificate2 identity, string node,
        InventoryReport? report = null)
    {
        // the refusal may end the stream before the hello or the report is written (the write then fails with
        // Cancelled); the status the coordinator gave is read from the response stream
        using var call = _coordinator.Agent(identity).Connect();
        try
        {
            await call.RequestStream.WriteAsync(new AgentMessage { Hello = new Hello { Node = node, AgentVersion = "test" } });
            if (report is not null)
            {
                await call.RequestStream.WriteAsync(new AgentMessage { Inventory = report });
            }
        }
        catch (RpcException)
        {
            // refused already; the status below says why
        }
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        return error;
    }

    private async Task<StatusResponse> StatusAsync() =>
        await _coordinator.Admin().GetStatusAsync(new StatusRequest(), deadline: Deadline());

    private static DateTime Deadline() => DateTime.UtcNow.AddSeconds(20);
}
