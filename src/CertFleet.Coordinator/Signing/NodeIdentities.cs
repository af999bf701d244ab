using System.Security.Cryptography.X509Certificates;
using CertFleet.Coordinator.Fleet;
using CertFleet.Pki.Certificates;

namespace CertFleet.Coordinator.Signing;

/// <summary>
/// Which node may hold which identity. A worker that holds a copy of a control-plane key (stolen, or left behind)
/// must not get it renewed, and a node must not renew another node's kubelet identity. The rules:
/// <list type="bullet">
/// <item>kubelet identities (CN <c>system:node:&lt;name&gt;</c>) only on node <c>&lt;name&gt;</c>, and on a worker only
/// with O = <c>system:nodes</c> and nothing else;</item>
/// <item>control-plane and admin identities only on nodes enrolled as masters. Control-plane is: any O =
/// <c>system:masters</c> (cluster-admin through RBAC); CN <c>system:kube-controller-manager</c>,
/// <c>system:kube-scheduler</c>, <c>system:kube-apiserver</c>, <c>kubernetes</c> (the hard-way apiserver and etcd
/// certificate), <c>front-proxy-client</c> (the apiserver's aggregation identity), <c>kubernetes-admin</c>,
/// <c>admin</c>; a CN that starts with <c>kube-apiserver</c> or contains <c>etcd</c> (etcd server, peer and client
/// certificates, whose holders read every secret); and any certificate with serverAuth whose SANs name the
/// apiserver (<c>kubernetes</c>, <c>kubernetes.default*</c>) or etcd (a DNS name containing <c>etcd</c>);</item>
/// <item>everything else (kube-proxy <c>system:kube-proxy</c>, other clients) on any node that holds it.</item>
/// </list>
/// Names are compared exactly (case-sensitive), as Kubernetes compares them.
/// </summary>
internal static class NodeIdentities
{
    public const string KubeletPrefix = "system:node:";

    private const string MultiValued = "\0multi-valued";
    private const string CommonNameOid = "2.5.4.3";
    private const string OrganizationOid = "2.5.4.10";
    private const string ServerAuthOid = "1.3.6.1.5.5.7.3.1";
    private const string ExtendedKeyUsageOid = "2.5.29.37";

    private static readonly HashSet<string> ControlPlaneNames = new(StringComparer.Ordinal)
    {
        "system:kube-controller-manager", "system:kube-scheduler", "system:kube-apiserver", "kubernetes",
        "front-proxy-client", "kubernetes-admin", "admin",
    };

    /// <summary>Why <paramref name="node"/> (with <paramref name="role"/>) may not hold <paramref name="certificate"/>'s identity, or null.</summary>
    public static string? RefusalOf(string node, NodeRole role, CertificateInfo certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var (commonNames, organizations) = Names(certificate.SubjectDer);
        var kubelet = commonNames.FirstOrDefault(cn => cn.StartsWith(KubeletPrefix, StringComparison.Ordinal));
        if (kubelet is not null && kubelet != KubeletPrefix + node)
        {
            return $"{kubelet} is the kubelet identity of node {kubelet[KubeletPrefix.Length..]}, not of {node}; "
                + "a node only renews its own kubelet certificate";
        }
        if (role == NodeRole.Master)
        {
            return null;
        }
        if (ControlPlaneReason(commonNames, organizations, certificate) is { } why)
        {
            return $"{why}: a control-plane or admin identity, renewed only on nodes enrolled as masters, and {node} is a worker; "
                + "remove the copy from this worker, or enroll the node as a master (token create --role master) if it is one";
        }
        if (kubelet is not null && organizations.Any(o => o != "system:nodes"))
        {
            return $"the kubelet identity {kubelet} also claims O={string.Join(",", organizations)}; a worker's kubelet "
                + "certificate is renewed only with O=system:nodes";
        }
        return null;
    }

    private static string? ControlPlaneReason(List<string> commonNames, List<string> organizations, CertificateInfo certificate)
    {
        if (organizations.Contains("system:masters"))
        {
            return "O=system:masters (cluster-admin)";
        }
        if (organizations.Contains(MultiValued))
        {
            return "a subject with a multi-valued name component (it may carry O=system:masters)";
        }
        foreach (var cn in commonNames)
        {
            if (ControlPlaneNames.Contains(cn)
                || cn.StartsWith("kube-apiserver", StringComparison.Ordinal)
                || cn.Contains("etcd", StringComparison.Ordinal))
            {
                return $"CN={cn}";
            }
        }
        if (HasServerAuth(certificate) && certificate.SubjectAlternativeNames.FirstOrDefault(IsControlPlaneName) is { } san)
        {
            return $"a server certificate for {san}";
        }
        return null;
    }

    private static bool IsControlPlaneName(string san) =>
        san.StartsWith("DNS:", StringComparison.Ordinal)
        && (san == "DNS:kubernetes" || san.StartsWith("DNS:kubernetes.default", StringComparison.Ordinal)
            || san.Contains("etcd", StringComparison.Ordinal));

    // read from the parsed certificate: loading an X509Certificate2 (OpenSSL 3) cost more than the renewal's signature
    private static bool HasServerAuth(CertificateInfo certificate) =>
        certificate.ExtensionsOf(ExtendedKeyUsageOid)
            .Select(e => new X509EnhancedKeyUsageExtension(new System.Security.Cryptography.AsnEncodedData(ExtendedKeyUsageOid, e.Value), e.Critical))
            .Any(e => e.EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>().Any(o => o.Value == ServerAuthOid));

    private static (List<string> CommonNames, List<string> Organizations) Names(byte[] subjectDer)
    {
        var commonNames = new List<string>();
        var organizations = new List<string>();
        foreach (var rdn in new X500DistinguishedName(subjectDer).EnumerateRelativeDistinguishedNames())
        {
            if (rdn.HasMultipleElements)
            {
                // a multi-valued RDN could hide O=system:masters from a one-value reading: judge it as control-plane
                organizations.Add(MultiValued);
                continue;
            }
            var value = rdn.GetSingleElementValue() ?? "";
            switch (rdn.GetSingleElementType().Value)
            {
                case CommonNameOid:
                    commonNames.Add(value);
                    break;
                case OrganizationOid:
                    organizations.Add(value);
                    break;
            }
        }
        return (commonNames, organizations);
    }
}
