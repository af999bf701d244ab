using System.Collections.Concurrent;
using CertFleet.Coordinator.Fleet;
using CertFleet.Protocol.V1;

namespace CertFleet.Coordinator.Tests.Rollouts;

/// <summary>The fleet as the coordinator would know it, refreshed through the (fake) agents.</summary>
internal sealed class FakeFleetInventory(FakeAgentGateway gateway, IReadOnlyDictionary<string, NodeRole> roles) : IFleetInventory
{
    private readonly ConcurrentDictionary<string, NodeRecord> _records = new(
        roles.Select(r => KeyValuePair.Create(r.Key, new NodeRecord(r.Key, r.Value, gateway.IsConnected(r.Key), null, null))));

    public IReadOnlyList<NodeRecord> Nodes() =>
        _records.Values.Select(r => r with { Connected = gateway.IsConnected(r.Name) }).OrderBy(r => r.Name, StringComparer.Ordinal).ToList();

    public NodeRecord? Find(string node) => Nodes().FirstOrDefault(n => n.Name == node);

    public async Task<NodeRecord> RefreshAsync(string node, CancellationToken cancellationToken)
    {
        var answer = await gateway.SendAsync(node, new CoordinatorMessage { InventoryRequest = new InventoryRequest() }, TimeSpan.FromSeconds(30), cancellationToken);
        var record = new NodeRecord(node, roles[node], true, answer.Inventory.TakenAt.ToDateTimeOffset(), answer.Inventory);
        _records[node] = record;
        return record;
    }
}
