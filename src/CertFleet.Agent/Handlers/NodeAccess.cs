using CertFleet.Agent.Options;
using CertFleet.Pki.Files;
using CertFleet.Pki.Inventory;

namespace CertFleet.Agent.Handlers;

/// <summary>The node's file system under --root, scanned fresh for every request so no answer is stale.</summary>
internal sealed class NodeAccess(AgentOptions options, TimeProvider time)
{
    public NodeRoot Root => new(options.Root);

    public NodeInventory Scan() => new NodeScanner(time).Scan(Root);
}
