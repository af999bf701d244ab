namespace CertFleet.Pki.Rekey;

/// <summary>Whether a place on a node trusts a CA (accepts what it signed) or signs with it (holds its key).</summary>
public enum TrustAnchorKind
{
    /// <summary>Gets "old + new" in the trust phase and loses the old CA in retire.</summary>
    Trusts,

    /// <summary>Keeps exactly one certificate matching its key; switched to the new CA and key in the issue phase.</summary>
    Signs,
}

/// <summary>
/// One place on a node that holds a CA: <see cref="Path"/> (node path; the kubeconfig for certificate-authority-data,
/// then <see cref="KubeconfigCluster"/> names the cluster), what it does with the CA, the units that use it and the
/// settings that name it ("kube-apiserver: --client-ca-file", "certificate-authority of cluster kubernetes in
/// /etc/kubernetes/kubelet.kubeconfig"); empty when nothing names it (a copy an administrator keeps).
/// </summary>
public sealed record TrustAnchor(string Path, string? KubeconfigCluster, TrustAnchorKind Kind, IReadOnlyList<string> Units, IReadOnlyList<string> NamedBy)
{
    /// <summary>For <see cref="TrustAnchorKind.Signs"/>: the CA key file beside it (node path), null when none was found.</summary>
    public string? KeyPath { get; init; }

    public string DisplayName => KubeconfigCluster is null ? Path : $"{Path} (certificate-authority-data of cluster {KubeconfigCluster})";
}

/// <summary>Something a re-key cannot rotate on this node, in the operator's words.</summary>
public sealed record RekeyProblem(string Path, string Message);
