using CertFleet.Coordinator.Audit;

namespace CertFleet.Coordinator.Fleet;

/// <summary>
/// Forgets a node and revokes its identity: the row (and with it the identity serial) goes, so the agent is refused at
/// Connect and at identity renewal from then on, and its open stream is ended now. Coming back needs a new token.
/// </summary>
internal sealed partial class NodeRemoval(NodeStore nodes, AgentSessions sessions, AuditLog audit, ILogger<NodeRemoval> logger)
{
    /// <summary>True when the node was enrolled (and now is not); false when no such node was known.</summary>
    public bool Remove(string node)
    {
        ArgumentException.ThrowIfNullOrEmpty(node);
        var removed = nodes.Remove(node);
        // ended even when the row was already gone: a stream must never outlive its node
        sessions.Disconnect(node, "the node was removed by the operator");
        if (removed)
        {
            Log.Removed(logger, node);
            audit.NodeRemoved(node);
        }
        return removed;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 310, Level = LogLevel.Warning, Message = "Node {Node} removed: its identity is revoked and its agent refused until it enrolls again with a new token")]
        public static partial void Removed(ILogger logger, string node);
    }
}
