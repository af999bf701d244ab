using CertFleet.Protocol.V1;

namespace CertFleet.Coordinator.Fleet;

/// <summary>A node as the database holds it.</summary>
internal sealed record StoredNode(string Name, NodeRole Role, DateTimeOffset EnrolledAt, DateTimeOffset? LastSeen,
    DateTimeOffset? LastReport, InventoryReport? Inventory);
