using CertFleet.Pki.Inventory;

namespace CertFleet.Pki.Rekey;

/// <summary>Where one CA is held on one node (<see cref="TrustAnchors.Find"/>): what trusts it, what signs with it, what it issued.</summary>
public sealed record NodeTrustAnchors(
    IReadOnlyList<TrustAnchor> Anchors,
    IReadOnlyList<CertificateEntry> Leaves,
    IReadOnlyList<RekeyProblem> Problems)
{
    public IEnumerable<TrustAnchor> Trusting => Anchors.Where(a => a.Kind == TrustAnchorKind.Trusts);

    public IEnumerable<TrustAnchor> Signing => Anchors.Where(a => a.Kind == TrustAnchorKind.Signs);

    /// <summary>
    /// Files that both sign and trust (make-cluster-pki's and kubeadm's ca.crt: --cluster-signing-cert-file and
    /// --client-ca-file at once, or any trusted CA file with its key beside it). No single text serves both through
    /// the issue phase: trust needs old + new, signing needs exactly one certificate matching the new key
    /// (kube-controller-manager refuses a bundle: kubernetes/kubeadm#1350). The coordinator must split them first.
    /// </summary>
    public IReadOnlyList<string> SignsAndTrusts =>
        Signing.Select(a => a.Path).Intersect(Trusting.Where(a => a.KubeconfigCluster is null).Select(a => a.Path), StringComparer.Ordinal)
            .Order(StringComparer.Ordinal).ToList();
}
