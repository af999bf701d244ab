using CertFleet.Protocol.V1;
using Grpc.Core;

namespace CertFleet.Agent.Connection;

/// <summary>One writer at a time on the request stream: answers, heartbeats and reports come from different loops.</summary>
internal sealed class StreamSender(IClientStreamWriter<AgentMessage> stream) : IDisposable
{
    private readonly SemaphoreSlim _lock = new(1, 1);

    public async Task SendAsync(AgentMessage message, CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken);
        try
        {
            await stream.WriteAsync(message, cancellationToken);
        }
        finally
        {
            _lock.Release();
        }
    }

    public void Dispose() => _lock.Dispose();
}
