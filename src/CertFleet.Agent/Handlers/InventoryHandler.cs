using CertFleet.Protocol.V1;

namespace CertFleet.Agent.Handlers;

/// <summary>InventoryRequest: a fresh scan of the node.</summary>
internal sealed class InventoryHandler(NodeAccess node)
{
    public InventoryReport Handle()
    {
        using var inventory = node.Scan();
        return InventoryMapping.ToReport(inventory);
    }
}
