using System.Security.Cryptography.X509Certificates;
using CertFleet.Coordinator.Fleet;
using CertFleet.Coordinator.Tests.Support;
using CertFleet.Protocol.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;

namespace CertFleet.Coordinator.Tests.Fleet;

/// <summary>Agents connected over real mTLS streams on 127.0.30.3; one coordinator for the class.</summary>
public sealed class AgentSessionsTests : IAsyncLifetime
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(10);
    private TestCoordinator _coordinator = null!;

    public async Task InitializeAsync() => _coordinator = await TestCoordinator.StartAsync("127.0.30.3:7443");

    public async Task DisposeAsync() => await _coordinator.DisposeAsync();

    private IAgentGateway Gateway => _coordinator.Services.GetRequiredService<IAgentGateway>();

    private IFleetInventory Fleet => _coordinator.Services.GetRequiredService<IFleetInventory>();

    [Fact]
    public async Task Connect_WithIdentity_StatusShowsNodeConnectedWithItsReport()
    {
        var identity = await EnrollAsync("master-1", "master");
        var report = Report("/etc/kubernetes/pki/apiserver.crt", _coordinator.FleetCa.RawData);

        await using var agent = await TestAgent.ConnectAsync(_coordinator.Agent(identity), "master-1", report, _ => null);
        await Eventually.True(() => Fleet.Find("master-1")?.LastReport is not null, "the report is stored");

        var status = await _coordinator.Admin().GetStatusAsync(new StatusRequest(), deadline: DateTime.UtcNow.AddSeconds(20));
        var node = Assert.Single(status.Nodes, n => n.Name == "master-1");
        Assert.True(node.Connected);
        Assert.Equal("master", node.Role);
        Assert.NotNull(node.LastReport);
        Assert.Equal("/etc/kubernetes/pki/apiserver.crt", Assert.Single(node.Certificates).Path);
        Assert.Equal(_coordinator.FleetCa.RawData, node.Certificates[0].Der.ToByteArray());
        Assert.Equal("/etc/kubernetes/pki/broken.crt", Assert.Single(node.Errors).Path);
    }

    [Fact]
    public async Task SendAsync_ConnectedAgentAnswers_ReturnsItsAnswer()
    {
        var identity = await EnrollAsync("worker-1", "worker");
        await using var agent = await TestAgent.ConnectAsync(_coordinator.Agent(identity), "worker-1", null, request =>
            request.BodyCase == CoordinatorMessage.BodyOneofCase.Restart
                ? new AgentMessage { StepResult = new StepResult { StepId = request.Restart.StepId, Ok = true, ProbeOutput = "active" } }
                : null);
        await Eventually.True(() => Gateway.IsConnected("worker-1"), "worker-1 is connected");

        var answers = await Task.WhenAll(Enumerable.Range(1, 5).Select(i => Gateway.SendAsync("worker-1",
            new CoordinatorMessage { Restart = new RestartRequest { StepId = $"r-1/{i}", Unit = "kubelet" } }, Limit, CancellationToken.None)));

        Assert.Equal(["r-1/1", "r-1/2", "r-1/3", "r-1/4", "r-1/5"], answers.Select(a => a.StepResult.StepId));
        Assert.All(answers, a => Assert.Equal("active", a.StepResult.ProbeOutput));
        Assert.Equal(5, agent.Received.Select(r => r.CorrelationId).Distinct().Count());
    }

    [Fact]
    public async Task SendAsync_AnswerIsInventory_StoredAsTheLastReport()
    {
        var identity = await EnrollAsync("worker-2", "worker");
        await using var agent = await TestAgent.ConnectAsync(_coordinator.Agent(identity), "worker-2", null, _ =>
            new AgentMessage { Inventory = Report("/var/lib/kubelet/pki/kubelet-client.crt", _coordinator.FleetCa.RawData) });
        await Eventually.True(() => Gateway.IsConnected("worker-2"), "worker-2 is connected");

        var record = await Fleet.RefreshAsync("worker-2", CancellationToken.None).WaitAsync(Limit);

        Assert.True(record.Connected);
        Assert.Equal("/var/lib/kubelet/pki/kubelet-client.crt", Assert.Single(record.Inventory!.Certificates).Path);
    }

    [Fact]
    public async Task SendAsync_StreamEndsBeforeTheAnswer_FailsWithAgentUnavailable()
    {
        var identity = await EnrollAsync("worker-3", "worker");
        var agent = await TestAgent.ConnectAsync(_coordinator.Agent(identity), "worker-3", null, _ => null);
        await Eventually.True(() => Gateway.IsConnected("worker-3"), "worker-3 is connected");

        var pending = Gateway.SendAsync("worker-3", new CoordinatorMessage { InventoryRequest = new InventoryRequest() },
            TimeSpan.FromMinutes(5), CancellationToken.None);
        await Eventually.True(() => agent.Received.Count == 1, "the agent got the request");
        agent.HangUp();

        var error = await Assert.ThrowsAsync<AgentUnavailableException>(() => pending.WaitAsync(Limit));
        Assert.Contains("node worker-3 is not connected", error.Message, StringComparison.Ordinal);
        await Eventually.True(() => !Gateway.IsConnected("worker-3"), "worker-3 is disconnected");
        await agent.DisposeAsync();
    }

    [Fact]
    public async Task SendAsync_NodeNotConnected_FailsAtOnce()
    {
        var error = await Assert.ThrowsAsync<AgentUnavailableException>(() =>
            Gateway.SendAsync("worker-404", new CoordinatorMessage { InventoryRequest = new InventoryRequest() }, Limit, CancellationToken.None));

        Assert.Contains("node worker-404 is not connected", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SendAsync_AgentSilent_FailsAfterTheTimeout()
    {
        var identity = await EnrollAsync("worker-4", "worker");
        await using var agent = await TestAgent.ConnectAsync(_coordinator.Agent(identity), "worker-4", null, _ => null);
        await Eventually.True(() => Gateway.IsConnected("worker-4"), "worker-4 is connected");

        var error = await Assert.ThrowsAsync<AgentUnavailableException>(() => Gateway.SendAsync("worker-4",
            new CoordinatorMessage { Verify = new VerifyRequest() }, TimeSpan.FromMilliseconds(300), CancellationToken.None).WaitAsync(Limit));

        Assert.Contains("did not answer a Verify request within", error.Message, StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromMilliseconds(300), error.TimedOutAfter);
    }

    [Fact]
    public async Task Connect_SecondStreamForSameNode_ReplacesTheFirst()
    {
        var identity = await EnrollAsync("worker-5", "worker");
        var first = await TestAgent.ConnectAsync(_coordinator.Agent(identity), "worker-5", null, Answer("first"));
        await Eventually.True(() => Gateway.IsConnected("worker-5"), "the first stream is connected");

        await using var second = await TestAgent.ConnectAsync(_coordinator.Agent(identity), "worker-5", null, Answer("second"));
        await first.Completion.WaitAsync(Limit);

        var answer = await Gateway.SendAsync("worker-5", new CoordinatorMessage { Verify = new VerifyRequest() }, Limit, CancellationToken.None);
        Assert.Equal("second", answer.Verification.Problems.Single().Problem);
        Assert.True(Gateway.IsConnected("worker-5"));
        await first.DisposeAsync();
    }

    [Fact]
    public async Task Connect_HelloNamingAnotherNode_IsRefused()
    {
        var identity = await EnrollAsync("worker-6", "worker");

        var agent = await TestAgent.ConnectAsync(_coordinator.Agent(identity), "master-1", null, _ => null);

        var error = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => agent.Completion.WaitAsync(Limit));
        Assert.Equal(Grpc.Core.StatusCode.PermissionDenied, error.StatusCode);
        Assert.Contains("the client certificate is node worker-6's", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connect_WithoutClientCertificate_IsRefused()
    {
        using var call = _coordinator.Agent().Connect();
        try
        {
            await call.RequestStream.WriteAsync(new AgentMessage { Hello = new Hello { Node = "worker-7", AgentVersion = "test" } });
        }
        catch (Grpc.Core.RpcException)
        {
            // the coordinator may refuse the stream before the hello is written; the status below says why
        }

        var error = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Limit));
        Assert.Equal(Grpc.Core.StatusCode.PermissionDenied, error.StatusCode);
        Assert.Contains("enroll the agent first", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Heartbeat_FromConnectedAgent_KeepsItConnected()
    {
        var identity = await EnrollAsync("worker-8", "worker");
        await using var agent = await TestAgent.ConnectAsync(_coordinator.Agent(identity), "worker-8", null, _ => null);

        await agent.SendAsync(new AgentMessage { Heartbeat = new Heartbeat { SentAt = Timestamp.FromDateTime(DateTime.UtcNow) } });

        await Eventually.True(() => Fleet.Find("worker-8")?.Connected == true, "worker-8 shows as connected");
    }

    private static Func<CoordinatorMessage, AgentMessage?> Answer(string who) => _ => new AgentMessage
    {
        Verification = new VerifyResponse { Problems = { new VerificationProblem { Problem = who } } },
    };

    private async Task<X509Certificate2> EnrollAsync(string node, string role)
    {
        var token = await _coordinator.Admin().CreateTokenAsync(new CreateTokenRequest { Node = node, Role = role },
            deadline: DateTime.UtcNow.AddSeconds(20));
        return await AgentIdentity.EnrollAsync(_coordinator.Agent(), token.Token, node);
    }

    private static InventoryReport Report(string path, byte[] der) => new()
    {
        TakenAt = Timestamp.FromDateTime(DateTime.UtcNow),
        Certificates = { new ReportedCertificate { Path = path, Der = ByteString.CopyFrom(der), KeyState = KeyState.Matches } },
        Errors = { new ReportedError { Path = "/etc/kubernetes/pki/broken.crt", Message = "not a certificate" } },
    };
}
