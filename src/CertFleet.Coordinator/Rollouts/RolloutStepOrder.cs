using CertFleet.Coordinator.Fleet;
using CertFleet.Pki.Renewal;
using CertFleet.Protocol.V1;

namespace CertFleet.Coordinator.Rollouts;

/// <summary>
/// The runbook's order as gated steps (DESIGN.md "Rolling renewal"): renew the CAs, install everywhere (one
/// batch, nothing restarts), then etcd, kube-apiserver, kube-controller-manager, kube-scheduler one master at a
/// time, kubelet and kube-proxy one master at a time and then on workers in batches, other units last. Steps
/// with the same batch number run together; each batch is gated on the one before.
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
        void Add(int inBatch, string kind, string node, string unit) =>
            steps.Add(new PlannedStep { Sequence = steps.Count + 1, Batch = inBatch, Kind = kind, Node = node, Unit = unit });

        if (renewAuthorities)
        {
            Add(++batch, StepKinds.RenewCa, RolloutPlanner.CoordinatorNode, "");
        }
        var affected = nodes.Where(n => unitsByNode.ContainsKey(n.Name)).ToList();
        if (affected.Count == 0)
        {
            return steps;
        }
        batch++;
        foreach (var node in affected)
        {
            Add(batch, StepKinds.Install, node.Name, "");
        }
        IEnumerable<string> UnitsOf(NodeRecord node, Func<int, bool> rank) =>
            RestartOrder.Sort(unitsByNode[node.Name]).Where(u => rank(RestartOrder.Rank(u)));

        // control plane: one unit on one node at a time, rank by rank
        for (var rank = 0; rank < KubeletRank; rank++)
        {
            foreach (var node in affected)
            {
                foreach (var unit in UnitsOf(node, r => r == rank))
                {
                    Add(++batch, StepKinds.Restart, node.Name, unit);
                }
            }
        }
        // node agents: on masters one at a time, on workers a batch of nodes at a time
        foreach (var node in affected.Where(n => n.Role == NodeRole.Master))
        {
            foreach (var unit in UnitsOf(node, r => r >= KubeletRank && r < OtherRank))
            {
                Add(++batch, StepKinds.Restart, node.Name, unit);
            }
        }
        foreach (var chunk in affected.Where(n => n.Role == NodeRole.Worker).Chunk(workerBatchSize))
        {
            var units = chunk.SelectMany(n => UnitsOf(n, r => r >= KubeletRank && r < OtherRank).Select(u => (n.Name, u))).ToList();
            if (units.Count > 0)
            {
                batch++;
                foreach (var (node, unit) in units)
                {
                    Add(batch, StepKinds.Restart, node, unit);
                }
            }
        }
        foreach (var node in affected)
        {
            foreach (var unit in UnitsOf(node, r => r >= OtherRank))
            {
                Add(++batch, StepKinds.Restart, node.Name, unit);
            }
        }
        return steps;
    }
}
