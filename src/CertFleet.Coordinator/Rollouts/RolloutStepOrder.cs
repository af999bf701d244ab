using CertFleet.Coordinator.Fleet;
using CertFleet.Pki.Renewal;
using CertFleet.Protocol.V1;

namespace CertFleet.Coordinator.Rollouts;

/// <summary>
/// The runbook's order as gated steps (DESIGN.md "Rolling renewal"): renew the CAs, install everywhere (one
/// batch, nothing restarts), then etcd, kube-apiserver, kube-controller-manager, kube-scheduler one master at a
/// time, kubelet and kube-proxy one master at a time, then the workers in batches, the masters' other units last.
/// Steps with the same batch number run together; each batch is gated on the one before. The phase comes from the
/// node's role as enrolled, never from the unit names it reports: a worker claiming etcd.service restarts it in the
/// worker phase, with its own kubelet, after every master.
/// </summary>
internal static class RolloutStepOrder
{
    private static readonly int KubeletRank = RestartOrder.Rank("kubelet");
    private static readonly int OtherRank = RestartOrder.Rank("(not in the runbook)");

    /// <param name="nodes">masters first, then workers, each by name</param>
    /// <param name="unitsByNode">the units that use what changes, for every node the rollout installs on</param>
    public static IEnumerable<PlannedStep> Steps(
        IReadOnlyList<NodeRecord> nodes, IReadOnlyDictionary<string, IReadOnlyCollection<string>> unitsByNode, bool renewAuthorities, int workerBatchSize)
    {
        var steps = new List<PlannedStep>();
        var batch = 0;
        void Add(int inBatch, StepKind kind, string node, string unit) =>
            steps.Add(new PlannedStep { Sequence = steps.Count + 1, Batch = inBatch, Kind = kind, Node = node, Unit = unit });

        if (renewAuthorities)
        {
            Add(++batch, StepKind.RenewCa, RolloutPlanner.CoordinatorNode, "");
        }
        var affected = nodes.Where(n => unitsByNode.ContainsKey(n.Name)).ToList();
        if (affected.Count == 0)
        {
            return steps;
        }
        batch++;
        foreach (var node in affected)
        {
            Add(batch, StepKind.Install, node.Name, "");
        }
        var masters = affected.Where(n => n.Role == NodeRole.Master).ToList();
        IEnumerable<string> UnitsOf(NodeRecord node, Func<int, bool> rank) =>
            RestartOrder.Sort(unitsByNode[node.Name]).Where(u => rank(RestartOrder.Rank(u)));

        // control plane, masters only: one unit on one master at a time, rank by rank
        for (var rank = 0; rank < KubeletRank; rank++)
        {
            foreach (var node in masters)
            {
                foreach (var unit in UnitsOf(node, r => r == rank))
                {
                    Add(++batch, StepKind.Restart, node.Name, unit);
                }
            }
        }
        // node agents on masters, one at a time
        foreach (var node in masters)
        {
            foreach (var unit in UnitsOf(node, r => r >= KubeletRank && r < OtherRank))
            {
                Add(++batch, StepKind.Restart, node.Name, unit);
            }
        }
        // workers, a batch of nodes at a time: every unit a worker uses, whatever it is called, runs here
        foreach (var chunk in affected.Where(n => n.Role != NodeRole.Master).Chunk(workerBatchSize))
        {
            var units = chunk.SelectMany(n => UnitsOf(n, _ => true).Select(u => (n.Name, u))).ToList();
            if (units.Count > 0)
            {
                batch++;
                foreach (var (node, unit) in units)
                {
                    Add(batch, StepKind.Restart, node, unit);
                }
            }
        }
        // the masters' units the runbook does not name, one at a time
        foreach (var node in masters)
        {
            foreach (var unit in UnitsOf(node, r => r >= OtherRank))
            {
                Add(++batch, StepKind.Restart, node.Name, unit);
            }
        }
        return steps;
    }
}
