using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
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
/// request verifies, carries that certificate's key and subject, and asks for no other names, usages or CA:TRUE.
/// </summary>
internal sealed class SigningPolicy(ClusterAuthorities authorities)
{
    private static readonly string[] GuardedExtensions =
    [
        "2.5.29.17", // subjectAltName
        "2.5.29.15", // keyUsage
        "2.5.29.37", // extendedKeyUsage
        "2.5.29.19", // basicConstraints
    ];

    /// <summary>Why <paramref name="reported"/> on <paramref name="node"/> cannot be renewed by the coordinator, or null when it can.</summary>
    public string? RefusalOf(NodeRecord node, ReportedCertificate reported, CertificateInfo certificate)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(reported);
        ArgumentNullException.ThrowIfNull(certificate);
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
        if (authorities.IssuerOf(certificate) is null)
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
        if (!request.SignatureIsValid)
        {
            return "the request's signature does not verify; the node must sign it with the certificate's own key";
        }
        // CertificateIssuer compares the keys again, tolerating re-encodings; this is the early, readable refusal
        if (!request.SubjectPublicKeyInfoDer.AsSpan().SequenceEqual(certificate.SubjectPublicKeyInfoDer))
        {
            return "the request carries a different public key than the certificate the node reported; "
                + "renewal keeps the existing key";
        }
        if (!request.SubjectDer.AsSpan().SequenceEqual(certificate.SubjectDer))
        {
            return $"the request asks for the subject '{new X500DistinguishedName(request.SubjectDer).Name}', not the certificate's "
                + $"'{certificate.Subject}'; a renewal keeps the subject";
        }
        return RefusalOfExtensions(certificate, request);
    }

    private static string? RefusalOfExtensions(CertificateInfo certificate, CertificateRequestInfo request)
    {
        if (request.Extensions.FirstOrDefault(e => e.Oid == GuardedExtensions[3]) is { } basic
            && new X509BasicConstraintsExtension(new AsnEncodedData(basic.Oid, basic.Value), basic.Critical).CertificateAuthority)
        {
            return "the request asks for CA:TRUE; a renewal never grants the right to sign certificates";
        }
        foreach (var oid in GuardedExtensions)
        {
            var had = certificate.ExtensionsOf(oid);
            var asked = request.Extensions.Where(e => e.Oid == oid).ToList();
            // a request that asks for nothing gets the certificate's own extension; one that asks must ask for the same
            var same = asked.Count == 0 || (asked.Count == 1 && had.Count == 1
                && had[0].Critical == asked[0].Critical && had[0].Value.AsSpan().SequenceEqual(asked[0].Value));
            if (!same)
            {
                var name = new Oid(oid).FriendlyName ?? oid;
                var askedText = string.Join("; ", asked.Select(e => new AsnEncodedData(e.Oid, e.Value).Format(false)));
                var hadText = had.Count == 0 ? "none" : string.Join("; ", had.Select(e => new AsnEncodedData(oid, e.Value).Format(false)));
                return $"the request asks for {name} '{askedText}', the certificate has '{hadText}'; "
                    + "a renewal keeps names and usages";
            }
        }
        return null;
    }
}
