using CertFleet.Protocol.V1;

namespace CertFleet.Coordinator.Fleet;

/// <summary>
/// The persisted node records joined with which agents are connected right now: to this coordinator when it is the
/// active one, else (a standby of a group) to the coordinator holding the lease, as the database says.
/// </summary>
internal sealed class FleetInventory(NodeStore nodes, AgentSessions sessions, Group.CoordinatorLease? lease = null) : IFleetInventory
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
        new(stored.Name, stored.Role, IsConnected(stored), stored.LastReport, stored.Inventory, stored.ReportRefusal);

    private bool IsConnected(StoredNode stored) =>
        lease is null || lease.IsActive
            ? sessions.IsConnected(stored.Name)
            : stored.ConnectedTo is not null && stored.ConnectedTo == lease.ActiveUrl;
}
