using CertFleet.Protocol.V1;

namespace CertFleet.Coordinator.Fleet;

/// <summary>
/// A node as the database holds it. IdentitySerial is null only for a node enrolled before serials were kept;
/// PreviousSerial is the identity a renewal replaced, until the new one is first seen at Connect; ReportRefusal says
/// why the node's newest report was refused (Inventory is then the one before it); ConnectedTo is the coordinator its
/// agent is connected to (as that coordinator last wrote it: stale after that coordinator died).
/// </summary>
internal sealed record StoredNode(string Name, NodeRole Role, DateTimeOffset EnrolledAt, DateTimeOffset? LastSeen,
    DateTimeOffset? LastReport, InventoryReport? Inventory, string? IdentitySerial = null, string? PreviousSerial = null,
    string? ReportRefusal = null, string? ConnectedTo = null)
{
    /// <summary>
    /// The live identity, or the one a renewal replaced as long as the new one was never used: an agent whose renewal
    /// answer was lost (connection cut, crash before it was stored) can ask again instead of being locked out.
    /// </summary>
    public bool MayRenew(string serialHex) =>
        IsCurrentIdentity(serialHex)
        || (PreviousSerial is not null && string.Equals(PreviousSerial, serialHex, StringComparison.OrdinalIgnoreCase));

    /// <summary>True when <paramref name="serialHex"/> is this node's live identity (case-insensitive hex).</summary>
    public bool IsCurrentIdentity(string serialHex) =>
        IdentitySerial is null || string.Equals(IdentitySerial, serialHex, StringComparison.OrdinalIgnoreCase);
}
