using CertFleet.Protocol.V1;

namespace CertFleet.Coordinator.Fleet;

public enum NodeRole
{
    Worker,
    Master,
}

/// <summary>
/// What the coordinator knows of one enrolled node: its role, whether its agent is connected, its last report accepted
/// (every certificate in it strict DER X.509, see InventoryIntake), and why a newer report was refused, if it was.
/// </summary>
public sealed record NodeRecord(string Name, NodeRole Role, bool Connected, DateTimeOffset? LastReport, InventoryReport? Inventory,
    string? ReportRefusal = null)
{
    /// <summary>The path a refused report's error is shown under: it concerns the whole report, not one file.</summary>
    public const string ReportPath = "(inventory report)";

    /// <summary>The node's errors as the operator sees them: the report's refusal first, then those of the last report.</summary>
    public IEnumerable<ReportedError> Errors() =>
        (ReportRefusal is null ? Enumerable.Empty<ReportedError>() : [new ReportedError { Path = ReportPath, Message = ReportRefusal }])
        .Concat(Inventory?.Errors ?? Enumerable.Empty<ReportedError>());
}

/// <summary>Some nodes in name order; <paramref name="More"/> when nodes after them were left for the next page.</summary>
public sealed record NodePage(IReadOnlyList<NodeRecord> Nodes, bool More);

/// <summary>The fleet as the coordinator knows it (persisted, so a restart loses nothing).</summary>
public interface IFleetInventory
{
    IReadOnlyList<NodeRecord> Nodes();

    /// <summary>
    /// The nodes named after <paramref name="after"/> (ordinal order; "" for the first), at most <paramref name="maxNodes"/>
    /// and about <paramref name="maxBytes"/> of reports, always one when there is one: a page of <c>certfleet status</c>.
    /// </summary>
    NodePage NodesAfter(string after, int maxNodes, long maxBytes)
    {
        var following = Nodes().Where(n => string.CompareOrdinal(n.Name, after) > 0).OrderBy(n => n.Name, StringComparer.Ordinal).ToList();
        var page = new List<NodeRecord>();
        long bytes = 0;
        foreach (var node in following)
        {
            bytes += node.Inventory?.CalculateSize() ?? 0;
            if (page.Count == maxNodes || (page.Count > 0 && bytes > maxBytes))
            {
                return new NodePage(page, More: true);
            }
            page.Add(node);
        }
        return new NodePage(page, More: false);
    }

    NodeRecord? Find(string node);

    /// <summary>Asks a connected agent for a fresh inventory, stores it and returns the node's record.</summary>
    Task<NodeRecord> RefreshAsync(string node, CancellationToken cancellationToken);
}
