namespace CertFleet.Pki.Renewal;

/// <summary>The runbook's restart order: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy.</summary>
public static class RestartOrder
{
    private static readonly string[] Runbook =
        ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy"];

    /// <summary>Units in the order they must restart; units the runbook does not name come last, by name.</summary>
    public static IReadOnlyList<string> Sort(IEnumerable<string> units) =>
        units.Distinct(StringComparer.Ordinal)
            .OrderBy(Rank)
            .ThenBy(u => u, StringComparer.Ordinal)
            .ToList();

    public static int Rank(string unit)
    {
        var name = unit.EndsWith(".service", StringComparison.Ordinal) ? unit[..^".service".Length] : unit;
        var index = Array.IndexOf(Runbook, name);
        return index < 0 ? Runbook.Length : index;
    }
}
