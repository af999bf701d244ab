using CertFleet.Protocol.V1;

namespace CertFleet.Coordinator.Fleet;

/// <summary>A node as the database holds it; IdentitySerial is null only for a node enrolled before serials were kept.</summary>
internal sealed record StoredNode(string Name, NodeRole Role, DateTimeOffset EnrolledAt, DateTimeOffset? LastSeen,
    DateTimeOffset? LastReport, InventoryReport? Inventory, string? IdentitySerial = null)
{
    /// <summary>True when <paramref name="serialHex"/> is this node's live identity (case-insensitive hex).</summary>
    public bool IsCurrentIdentity(string serialHex) =>
        IdentitySerial is null || string.Equals(IdentitySerial, serialHex, StringComparison.OrdinalIgnoreCase);
}
