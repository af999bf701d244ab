using CertFleet.Protocol.V1;

namespace CertFleet.Coordinator.Fleet;

/// <summary>The persisted node records joined with which agents are connected right now.</summary>
internal sealed class FleetInventory(NodeStore nodes, AgentSessions sessions) : IFleetInventory
{
    private static readonly TimeSpan RefreshTimeout = TimeSpan.FromSeconds(60);

    public IReadOnlyList<NodeRecord> Nodes() => nodes.All().Select(Record).ToList();

    public NodePage NodesAfter(string after, int maxNodes, long maxBytes)
    {
        var (page, more) = nodes.Page(after, maxNodes, maxBytes);
        return new NodePage(page.Select(Record).ToList(), more);
    }

    public NodeRecord? Find(string node) => nodes.Find(node) is { } stored ? Record(stored) : null;

    public async Task<NodeRecord> RefreshAsync(string node, CancellationToken cancellationToken)
    {
        if (nodes.Find(node) is null)
        {
            throw new KeyNotFoundException($"node {node} is not enrolled; see `certfleet status` for the fleet's nodes");
        }
        var answer = await sessions.SendAsync(node, new CoordinatorMessage { InventoryRequest = new InventoryRequest() },
            RefreshTimeout, cancellationToken).ConfigureAwait(false);
        if (answer.BodyCase != AgentMessage.BodyOneofCase.Inventory)
        {
            throw new AgentUnavailableException($"node {node} answered an inventory request with {answer.BodyCase}; upgrade its agent");
        }
        // AgentSessions stores every report it receives, answers included
        return Find(node) ?? throw new KeyNotFoundException($"node {node} was removed while it reported");
    }

    private NodeRecord Record(StoredNode stored) =>
        new(stored.Name, stored.Role, sessions.IsConnected(stored.Name), stored.LastReport, stored.Inventory, stored.ReportRefusal);
}
