using CertFleet.Pki;
using CertFleet.Pki.Certificates;
using CertFleet.Pki.Signing;
using CertFleet.Protocol.V1;

namespace CertFleet.Coordinator.Signing;

/// <summary>
/// What the coordinator agrees to sign: only the renewal of an identity the node already holds. The planner and
/// the signer both ask here, so a plan never promises what signing would refuse. (The full trust policy, with
/// node-identity and master-only checks, grows here.)
/// </summary>
internal sealed class SigningPolicy(ClusterAuthorities authorities)
{
    /// <summary>Why <paramref name="reported"/> cannot be renewed by the coordinator, or null when it can.</summary>
    public string? RefusalOf(ReportedCertificate reported, CertificateInfo certificate)
    {
        ArgumentNullException.ThrowIfNull(reported);
        ArgumentNullException.ThrowIfNull(certificate);
        switch (reported.Owner)
        {
            case CertificateOwner.KubeletRotation:
                return "the kubelet rotates this certificate itself (--rotate-certificates); left alone";
            case CertificateOwner.KubeletSelfSigned:
                return "the kubelet's self-signed serving certificate; the kubelet makes its own";
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
        if (authorities.IssuerOf(certificate) is null)
        {
            return $"issued by {certificate.Issuer}, which is not a CA this coordinator signs with; "
                + "give the coordinator that CA (--ca-cert/--ca-key) or renew it where its key is";
        }
        return null;
    }

    /// <summary>Why <paramref name="csrDer"/> is not an acceptable request to renew <paramref name="certificate"/>, or null.</summary>
    public static string? RefusalOfRequest(CertificateInfo certificate, ReadOnlySpan<byte> csrDer)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        CertificateRequestInfo request;
        try
        {
            request = CertificateRequestInfo.Parse(csrDer, $"certificate request for {certificate.Subject}");
        }
        catch (PkiException e)
        {
            return e.Message;
        }
        // CertificateIssuer compares the keys again, tolerating re-encodings; this is the early, readable refusal
        if (!request.SubjectPublicKeyInfoDer.AsSpan().SequenceEqual(certificate.SubjectPublicKeyInfoDer))
        {
            return "the request carries a different public key than the certificate the node reported; "
                + "renewal keeps the existing key";
        }
        return request.SignatureIsValid ? null : "the request's signature does not verify; the node must sign it with the certificate's own key";
    }
}
