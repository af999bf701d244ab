using CertFleet.Coordinator.Fleet;

namespace CertFleet.Coordinator.Metrics;

/// <summary>
/// Turns the errors of each node's stored report into the growth of a counter, as the exporter counts every failed read:
/// a report is counted once, when a scrape first sees it (by its time), and a refused report counts as one error when
/// its refusal first shows. Agents report every few minutes and Prometheus scrapes every few seconds, so a report that
/// comes and goes between two scrapes is rare; the counts start again with the coordinator, which Prometheus' rate()
/// and increase() take as a counter reset.
/// </summary>
internal sealed class SourceErrorCounts
{
    private readonly Dictionary<string, (DateTimeOffset? Report, string? Refusal)> _seen = new(StringComparer.Ordinal);

    /// <summary>The errors of <paramref name="node"/>'s reports not counted before (0 when nothing is new).</summary>
    public int NewErrors(NodeRecord node)
    {
        ArgumentNullException.ThrowIfNull(node);
        _seen.TryGetValue(node.Name, out var last);
        var errors = 0;
        if (node.LastReport is { } report && report != last.Report)
        {
            errors += node.Inventory?.Errors.Count ?? 0;
        }
        if (node.ReportRefusal is { } refusal && !string.Equals(refusal, last.Refusal, StringComparison.Ordinal))
        {
            errors++;
        }
        _seen[node.Name] = (node.LastReport, node.ReportRefusal);
        return errors;
    }

    /// <summary>Forgets the nodes no longer enrolled, so a node enrolled again under the name starts from nothing.</summary>
    public void Forget(IReadOnlySet<string> enrolled)
    {
        foreach (var gone in _seen.Keys.Where(n => !enrolled.Contains(n)).ToList())
        {
            _seen.Remove(gone);
        }
    }
}
