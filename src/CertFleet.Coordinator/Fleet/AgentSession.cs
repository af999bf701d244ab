using System.Collections.Concurrent;
using CertFleet.Protocol.V1;
using Grpc.Core;

namespace CertFleet.Coordinator.Fleet;

/// <summary>
/// One agent's open Connect stream: requests go out one write at a time, answers come back matched by correlation
/// id. When the stream ends (or a newer one replaces it) every send still waiting fails. Not disposable on purpose:
/// a rollout may still hold the session while it ends, and neither the token source nor the lock owns a handle.
/// </summary>
internal sealed class AgentSession(string node, IServerStreamWriter<CoordinatorMessage> writer, TimeProvider time)
{
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<AgentMessage>> _pending = new();
    private readonly CancellationTokenSource _ended = new();
    private string _endReason = "its stream ended";

    public string Node { get; } = node;

    /// <summary>Cancelled when the session ends; the Connect call stops reading then.</summary>
    public CancellationToken Ended => _ended.Token;

    public async Task<AgentMessage> SendAsync(CoordinatorMessage request, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var id = Guid.NewGuid().ToString("N");
        var message = request.Clone();
        message.CorrelationId = id;
        var answer = new TaskCompletionSource<AgentMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = answer;
        try
        {
            if (_ended.IsCancellationRequested)
            {
                throw Unavailable();
            }
            await WriteAsync(message, cancellationToken).ConfigureAwait(false);
            return await answer.Task.WaitAsync(timeout, time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new AgentUnavailableException($"node {Node} did not answer a {request.BodyCase} request within {timeout.TotalSeconds:0} s", timeout);
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    /// <summary>Completes the send waiting for this answer; false when nobody waits for it (late or unknown).</summary>
    public bool Answer(AgentMessage message) =>
        _pending.TryRemove(message.CorrelationId, out var waiting) && waiting.TrySetResult(message);

    /// <summary>Ends the session: pending and later sends fail with <see cref="AgentUnavailableException"/>.</summary>
    public void End(string reason)
    {
        _endReason = reason;
        _ended.Cancel();
        foreach (var id in _pending.Keys)
        {
            if (_pending.TryRemove(id, out var waiting))
            {
                waiting.TrySetException(Unavailable());
            }
        }
    }

    private async Task WriteAsync(CoordinatorMessage message, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _ended.Token);
        try
        {
            // gRPC allows one pending write per stream: requests from concurrent rollout steps take turns
            await _writeLock.WaitAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_ended.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw Unavailable();
        }
        try
        {
            await writer.WriteAsync(message, linked.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or RpcException
            || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw Unavailable();
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private AgentUnavailableException Unavailable() =>
        new($"node {Node} is not connected ({_endReason}); check its certfleet-agent service");
}
