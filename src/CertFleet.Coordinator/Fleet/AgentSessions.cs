using System.Collections.Concurrent;
using CertFleet.Protocol.V1;
using CertFleet.Coordinator.State;
using Grpc.Core;

namespace CertFleet.Coordinator.Fleet;

/// <summary>
/// The connected agents, one session per node (a newer stream replaces an older one), and the gateway the rollouts
/// use to ask them things. Async all the way: no thread per agent.
/// </summary>
/// <param name="lease">this coordinator's lease, whose URL is recorded as where each connected agent is (null in tests)</param>
internal sealed partial class AgentSessions(NodeStore nodes, ILogger<AgentSessions> logger, TimeProvider time, Group.CoordinatorLease? lease = null) : IAgentGateway
{
    private readonly ConcurrentDictionary<string, AgentSession> _sessions = new(StringComparer.Ordinal);

    public bool IsConnected(string node) => _sessions.ContainsKey(node);

    public Task<AgentMessage> SendAsync(string node, CoordinatorMessage request, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return _sessions.TryGetValue(node, out var session)
            ? session.SendAsync(request, timeout, cancellationToken)
            : Task.FromException<AgentMessage>(new AgentUnavailableException(
                $"node {node} is not connected; check that its certfleet-agent service runs and can reach the coordinator"));
    }

    /// <summary>Ends the node's open stream, if any (its agent then reconnects and is checked again).</summary>
    public void Disconnect(string node, string reason)
    {
        if (_sessions.TryRemove(node, out var session))
        {
            session.End(reason);
        }
    }

    /// <summary>Ends every open stream: this coordinator stepped down, and its agents go to the active one.</summary>
    public void DisconnectAll(string reason)
    {
        foreach (var node in _sessions.Keys)
        {
            Disconnect(node, reason);
        }
    }

    /// <summary>Serves one authenticated agent's Connect stream until it ends, is replaced, or the call is cancelled.</summary>
    public async Task ServeAsync(string node, IAsyncStreamReader<AgentMessage> incoming,
        IServerStreamWriter<CoordinatorMessage> outgoing, CancellationToken callCancelled)
    {
        var session = new AgentSession(node, outgoing, time);
        AgentSession? replaced = null;
        _sessions.AddOrUpdate(node, session, (_, old) =>
        {
            replaced = old;
            return session;
        });
        replaced?.End("replaced by a newer connection from the same node");
        if (lease is not null)
        {
            nodes.Connected(node, lease.Url);
        }
        else
        {
            nodes.Touch(node);
        }
        Log.Connected(logger, node, replaced is not null);
        var reason = "its stream ended";
        try
        {
            using var both = CancellationTokenSource.CreateLinkedTokenSource(callCancelled, session.Ended);
            while (await incoming.MoveNext(both.Token).ConfigureAwait(false))
            {
                Receive(session, incoming.Current);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException
            || (e is RpcException rpc && rpc.StatusCode is StatusCode.Cancelled or StatusCode.Unavailable))
        {
            reason = session.Ended.IsCancellationRequested ? "replaced by a newer connection" : "its stream was cut";
        }
        finally
        {
            if (_sessions.TryRemove(new KeyValuePair<string, AgentSession>(node, session)) && lease is not null)
            {
                RecordDisconnected(node, lease.Url);
            }
            session.End(reason);
            Log.Disconnected(logger, node, reason);
        }
    }

    private void RecordDisconnected(string node, string url)
    {
        try
        {
            nodes.Disconnected(node, url);
        }
        catch (Exception e) when (e is LeaseLostException or System.Data.Common.DbException)
        {
            // a standby (or a database away) writes nothing: the row names a coordinator that is not the active one
            Log.NotRecorded(logger, node, e.Message);
        }
    }

    private void Receive(AgentSession session, AgentMessage message)
    {
        switch (message.BodyCase)
        {
            case AgentMessage.BodyOneofCase.Hello when message.Hello.Node.Length > 0 && message.Hello.Node != session.Node:
                throw new RpcException(new Status(StatusCode.PermissionDenied,
                    $"the hello names node {message.Hello.Node} but the client certificate is node {session.Node}'s; run the agent with --node {session.Node}"));
            case AgentMessage.BodyOneofCase.Hello:
                Log.Hello(logger, session.Node, message.Hello.AgentVersion);
                nodes.Touch(session.Node);
                break;
            case AgentMessage.BodyOneofCase.Inventory:
                Store(session.Node, message.Inventory);
                break;
            default:
                nodes.Touch(session.Node);
                break;
        }
        if (message.CorrelationId.Length > 0 && !session.Answer(message))
        {
            Log.UnexpectedAnswer(logger, session.Node, message.CorrelationId);
        }
    }

    private void Store(string node, InventoryReport report)
    {
        var judged = InventoryIntake.Judge(report);
        if (judged.Accepted is { } accepted)
        {
            nodes.SaveReport(node, accepted);
            Log.Report(logger, node, accepted.Certificates.Count, report.Errors.Count, report.Certificates.Count - accepted.Certificates.Count);
        }
        else
        {
            nodes.RefuseReport(node, judged.Refusal!);
            Log.ReportRefused(logger, node, judged.Refusal!);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 300, Level = LogLevel.Information, Message = "Agent {Node} connected (replacing an older connection: {Replaced})")]
        public static partial void Connected(ILogger logger, string node, bool replaced);

        [LoggerMessage(EventId = 301, Level = LogLevel.Information, Message = "Agent {Node} disconnected: {Reason}")]
        public static partial void Disconnected(ILogger logger, string node, string reason);

        [LoggerMessage(EventId = 302, Level = LogLevel.Debug, Message = "Agent {Node} says hello (version {Version})")]
        public static partial void Hello(ILogger logger, string node, string version);

        [LoggerMessage(EventId = 303, Level = LogLevel.Information, Message = "Agent {Node} reported {Certificates} certificates and {Errors} errors; {Refused} entries refused (not DER X.509, or too long)")]
        public static partial void Report(ILogger logger, string node, int certificates, int errors, int refused);

        [LoggerMessage(EventId = 305, Level = LogLevel.Warning, Message = "Agent {Node}'s inventory report refused: {Refusal}")]
        public static partial void ReportRefused(ILogger logger, string node, string refusal);

        [LoggerMessage(EventId = 304, Level = LogLevel.Warning, Message = "Agent {Node} answered {CorrelationId}, which nobody waits for (timed out or unknown)")]
        public static partial void UnexpectedAnswer(ILogger logger, string node, string correlationId);

        [LoggerMessage(EventId = 306, Level = LogLevel.Debug, Message = "Agent {Node}'s disconnection not recorded: {Reason}")]
        public static partial void NotRecorded(ILogger logger, string node, string reason);
    }
}
