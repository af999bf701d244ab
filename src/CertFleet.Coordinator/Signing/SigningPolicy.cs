using CertFleet.Coordinator.Fleet;
using CertFleet.Pki;
using CertFleet.Pki.Certificates;
using CertFleet.Pki.Signing;
using CertFleet.Protocol.V1;

namespace CertFleet.Coordinator.Signing;

/// <summary>
/// What the coordinator agrees to sign: only the renewal of an identity the node already holds and may hold.
/// The planner and the signer both ask here, so a plan never promises what signing would refuse, and every CSR
/// is judged by the same rules: the certificate is one this node reported, with its key on the node, issued by a
/// coordinator CA (expired is fine), not a CA, an identity the node may hold (<see cref="NodeIdentities"/>); the
/// request is one <see cref="RenewalRequest"/> accepts (its signature, the certificate's key and subject, nothing
/// asked beyond the certificate's own extensions).
/// </summary>
internal sealed class SigningPolicy(ClusterAuthorities authorities)
{
    /// <summary>Why <paramref name="reported"/> on <paramref name="node"/> cannot be renewed by the coordinator, or null when it can.</summary>
    public string? RefusalOf(NodeRecord node, ReportedCertificate reported, CertificateInfo certificate) =>
        RefusalOf(node, reported, certificate, out _);

    /// <summary>
    /// The renewal of <paramref name="certificate"/> that <paramref name="node"/> may have from <paramref name="csrDer"/>,
    /// judged once: the node's right to the certificate here, the request by <see cref="RenewalRequest"/>'s rules (the
    /// same rules `renew --local` signs under). Null, with <paramref name="refusal"/>, when either refuses.
    /// </summary>
    public RenewalRequest? Judge(NodeRecord node, ReportedCertificate reported, CertificateInfo certificate, ReadOnlySpan<byte> csrDer,
        out string refusal)
    {
        if (RefusalOf(node, reported, certificate, out var issued) is { } reason)
        {
            refusal = reason;
            return null;
        }
        try
        {
            refusal = "";
            return RenewalRequest.Read(csrDer, issued!);
        }
        catch (PkiException e)
        {
            refusal = e.Message;
            return null;
        }
    }

    private string? RefusalOf(NodeRecord node, ReportedCertificate reported, CertificateInfo certificate, out IssuedCertificate? issued)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(reported);
        ArgumentNullException.ThrowIfNull(certificate);
        issued = null;
        if (node.Inventory is null || !node.Inventory.Certificates.Any(c => c.Der.Span.SequenceEqual(certificate.Der)))
        {
            return $"{node.Name} did not report this certificate; only a certificate the node itself reported is renewed for it";
        }
        switch (reported.Owner)
        {
            case CertificateOwner.KubeletRotation:
                return reported.OwnerNote is { Length: > 0 } note ? note : "the kubelet rotates this certificate itself (--rotate-certificates); left alone";
            case CertificateOwner.KubeletRotationHistory:
                return (reported.OwnerNote is { Length: > 0 } earlier ? earlier : "a certificate the kubelet rotated earlier; nothing uses it") + "; left alone";
            case CertificateOwner.KubeletSelfSigned:
                return "the serving certificate the kubelet made for itself: no CA issued it, so the coordinator signs nothing for it "
                    + "(a rollout has the node renew it self-signed, when its key is there)";
            case CertificateOwner.SelfSigned:
                return "self-signed and not a CA: no CA issued it, so there is nothing to renew it with";
        }
        if (reported.KeyState == KeyState.Mismatch)
        {
            return $"its key {reported.KeyPath} does not match it; restore the matching key (see `certfleet verify --local` on the node)";
        }
        if (reported.KeyState != KeyState.Matches)
        {
            return "no private key for it on the node, so the node cannot prove it holds this identity";
        }
        issued = authorities.Issued(certificate);
        if (issued is null)
        {
            return $"issued by {certificate.Issuer}, which is not a CA this coordinator signs with; "
                + "give the coordinator that CA (--ca-cert/--ca-key) or renew it where its key is";
        }
        if (certificate.IsCa)
        {
            return "a CA certificate: CA certificates are renewed only with --ca, by the coordinator with the CA's own key";
        }
        return NodeIdentities.RefusalOf(node.Name, node.Role, certificate);
    }
}
