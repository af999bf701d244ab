using CertFleet.Pki.Certificates;
using CertFleet.Pki.Inventory;
using CertFleet.Pki.Keys;

namespace CertFleet.Pki.Renewal;

/// <summary>What a local renewal will do: which certificates are renewed, which are skipped and why.</summary>
public sealed record RenewalPlan(
    IReadOnlyList<PlannedRenewal> Authorities,
    IReadOnlyList<PlannedRenewal> Leaves,
    IReadOnlyList<SkippedCertificate> Skipped,
    IReadOnlyList<string> Warnings,
    IReadOnlyList<string> UnitsToRestart)
{
    public IEnumerable<PlannedRenewal> All => Authorities.Concat(Leaves);

    /// <summary>Certificates that leave their file: client-go's throwaway CA beside the kubelet's renewed serving leaf.</summary>
    public IReadOnlyList<CertificateEntry> Removals { get; init; } = [];

    public bool IsEmpty => Authorities.Count == 0 && Leaves.Count == 0;
}

/// <summary>
/// One certificate to renew, every place it appears on the node (files, bundles, kubeconfigs), the key that
/// proves possession and the CA that signs it (for a self-signed CA: itself).
/// </summary>
public sealed record PlannedRenewal(
    CertificateInfo Current,
    IReadOnlyList<CertificateEntry> Occurrences,
    PrivateKey Key,
    CertificateInfo Issuer,
    PrivateKey IssuerKey,
    DateTimeOffset NewNotAfter)
{
    public bool IsAuthority => Current.IsCa;

    public bool IsSelfSigned => Occurrences[0].IsSelfSigned;

    /// <summary>The serving certificate the kubelet made for itself: renewed self-signed with its own key.</summary>
    public bool IsKubeletServing => Occurrences[0].Owner == RenewalOwner.KubeletSelfSigned;
}

/// <summary>A certificate left alone, with the reason an operator reads.</summary>
public sealed record SkippedCertificate(string Path, string? KubeconfigUser, string Subject, string Reason);
