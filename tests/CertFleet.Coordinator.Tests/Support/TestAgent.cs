using CertFleet.Protocol.V1;
using Grpc.Core;

namespace CertFleet.Coordinator.Tests.Support;

/// <summary>
/// A scripted agent on a real Connect stream: says hello, reports, then answers each request with
/// <c>answer</c> (null: stays silent) and records what it was asked.
/// </summary>
public sealed class TestAgent : IAsyncDisposable
{
    private readonly AsyncDuplexStreamingCall<AgentMessage, CoordinatorMessage> _call;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly Func<CoordinatorMessage, AgentMessage?> _answer;
    private readonly List<CoordinatorMessage> _received = [];

    private TestAgent(AsyncDuplexStreamingCall<AgentMessage, CoordinatorMessage> call, Func<CoordinatorMessage, AgentMessage?> answer)
    {
        _call = call;
        _answer = answer;
        Completion = Task.Run(ServeAsync);
    }

    /// <summary>Ends when the coordinator ends the stream (or it fails).</summary>
    public Task Completion { get; }

    public IReadOnlyList<CoordinatorMessage> Received
    {
        get
        {
            lock (_received)
            {
                return [.. _received];
            }
        }
    }

    public static async Task<TestAgent> ConnectAsync(AgentService.AgentServiceClient client, string node,
        InventoryReport? report, Func<CoordinatorMessage, AgentMessage?> answer)
    {
        var agent = new TestAgent(client.Connect(), answer);
        await agent.SendAsync(new AgentMessage { Hello = new Hello { Node = node, AgentVersion = "test" } });
        if (report is not null)
        {
            await agent.SendAsync(new AgentMessage { Inventory = report });
        }
        return agent;
    }

    public async Task SendAsync(AgentMessage message)
    {
        await _writeLock.WaitAsync();
        try
        {
            await _call.RequestStream.WriteAsync(message);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Drops the connection the way a crashed agent does.</summary>
    public void HangUp() => _call.Dispose();

    public async ValueTask DisposeAsync()
    {
        _call.Dispose();
        await Completion.WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { });
    }

    private async Task ServeAsync()
    {
        await foreach (var request in _call.ResponseStream.ReadAllAsync())
        {
            lock (_received)
            {
                _received.Add(request);
            }
            if (_answer(request) is { } answer)
            {
                answer.CorrelationId = request.CorrelationId;
                await SendAsync(answer);
            }
        }
    }
}
