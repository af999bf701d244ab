using CertFleet.Protocol.V1;

namespace CertFleet.Coordinator.Fleet;

public enum NodeRole
{
    Worker,
    Master,
}

/// <summary>What the coordinator knows of one enrolled node: its role, whether its agent is connected, its last report.</summary>
public sealed record NodeRecord(string Name, NodeRole Role, bool Connected, DateTimeOffset? LastReport, InventoryReport? Inventory);

/// <summary>The fleet as the coordinator knows it (persisted, so a restart loses nothing).</summary>
public interface IFleetInventory
{
    IReadOnlyList<NodeRecord> Nodes();

    NodeRecord? Find(string node);

    /// <summary>Asks a connected agent for a fresh inventory, stores it and returns the node's record.</summary>
    Task<NodeRecord> RefreshAsync(string node, CancellationToken cancellationToken);
}
