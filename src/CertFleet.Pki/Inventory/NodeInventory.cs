using CertFleet.Pki.Files;
using CertFleet.Pki.Keys;
using CertFleet.Pki.Systemd;

namespace CertFleet.Pki.Inventory;

/// <summary>Everything certificate-related found on one node at one moment. Owns the private keys it loaded.</summary>
public sealed class NodeInventory(
    NodeRoot root,
    DateTimeOffset takenAt,
    IReadOnlyList<CertificateEntry> certificates,
    IReadOnlyList<InventoryError> errors,
    IReadOnlyList<SystemdUnit> units,
    IReadOnlyList<PrivateKey> keys,
    IReadOnlyList<KubeconfigReference> kubeconfigReferences) : IDisposable
{
    public NodeRoot Root { get; } = root;

    public DateTimeOffset TakenAt { get; } = takenAt;

    /// <summary>In a stable order: by path, then by position in the file.</summary>
    public IReadOnlyList<CertificateEntry> Certificates { get; } = certificates;

    public IReadOnlyList<InventoryError> Errors { get; } = errors;

    public IReadOnlyList<SystemdUnit> Units { get; } = units;

    /// <summary>Every file a kubeconfig on the node names by path (client-certificate, client-key, certificate-authority).</summary>
    public IReadOnlyList<KubeconfigReference> KubeconfigReferences { get; } = kubeconfigReferences;

    public void Dispose()
    {
        foreach (var key in keys)
        {
            key.Dispose();
        }
    }
}
