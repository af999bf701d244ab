using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace CertFleet.Agent.Enrollment;

/// <summary>
/// Decides whether the coordinator's TLS certificate is trusted: before enrollment, its chain must contain a CA whose
/// SubjectPublicKeyInfo hashes to the pinned value (as kubeadm's discovery hash); afterwards, it must chain to the
/// fleet CA stored at enrollment. The system trust store is never consulted: the fleet CA is the coordinator's own.
/// </summary>
internal static class CoordinatorTrust
{
    public static byte[] SpkiHash(X509Certificate2 certificate) =>
        SHA256.HashData(certificate.PublicKey.ExportSubjectPublicKeyInfo());

    /// <summary>True when <paramref name="server"/> chains to a CA among the presented certificates whose SPKI hash is <paramref name="pin"/>.</summary>
    public static bool IsPinned(X509Certificate2 server, IEnumerable<X509Certificate2> presented, byte[] pin, SslPolicyErrors errors, out string reason)
    {
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            reason = "the coordinator presented no certificate";
            return false;
        }
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
        {
            reason = $"the coordinator's certificate ({server.Subject}) is not for the address dialled";
            return false;
        }
        var candidates = presented.Append(server)
            .Where(c => CryptographicOperations.FixedTimeEquals(SpkiHash(c), pin))
            .ToList();
        if (candidates.Count == 0)
        {
            reason = "no certificate in the coordinator's chain has the pinned CA hash; check --ca-hash against `certfleet token create --print-join-command`";
            return false;
        }
        var intermediates = presented.ToList();
        foreach (var candidate in candidates)
        {
            if (ChainsTo(server, candidate, intermediates))
            {
                reason = "";
                return true;
            }
        }
        reason = "the certificate with the pinned hash did not issue the coordinator's certificate (or it is expired)";
        return false;
    }

    /// <summary>
    /// The check made once the coordinator has answered Enroll, for a coordinator that does not send its CA in the TLS
    /// chain (Kestrel leaves a self-signed root out): the fleet CA it returned must have the pinned hash and must have
    /// issued the certificate the TLS connection presented.
    /// </summary>
    public static bool IsPinnedFleetCa(X509Certificate2 server, X509Certificate2 fleetCa, byte[] pin, out string reason)
    {
        if (!CryptographicOperations.FixedTimeEquals(SpkiHash(fleetCa), pin))
        {
            reason = $"the fleet CA it returned ({fleetCa.Subject}) does not have the pinned hash; check --ca-hash against `certfleet token create --print-join-command`";
            return false;
        }
        if (!ChainsTo(server, fleetCa, []))
        {
            reason = $"its TLS certificate ({server.Subject}) was not issued by the fleet CA with the pinned hash";
            return false;
        }
        reason = "";
        return true;
    }

    /// <summary>True when <paramref name="server"/> chains to <paramref name="fleetCa"/> (and the name matches).</summary>
    public static bool IsIssuedByFleetCa(X509Certificate2 server, IEnumerable<X509Certificate2> presented, X509Certificate2 fleetCa, SslPolicyErrors errors, out string reason)
    {
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable) || errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
        {
            reason = $"the coordinator's certificate is missing or not for the address dialled ({errors})";
            return false;
        }
        if (ChainsTo(server, fleetCa, presented.ToList()))
        {
            reason = "";
            return true;
        }
        reason = $"the coordinator's certificate ({server.Subject}) does not chain to the fleet CA stored at enrollment";
        return false;
    }

    /// <summary>The chain presented in a validation callback: the peer's extra certificates and what was built.</summary>
    public static IEnumerable<X509Certificate2> Presented(X509Chain? chain) =>
        chain is null
            ? []
            : chain.ChainPolicy.ExtraStore.Cast<X509Certificate2>().Concat(chain.ChainElements.Select(e => e.Certificate));

    private static bool ChainsTo(X509Certificate2 leaf, X509Certificate2 root, List<X509Certificate2> intermediates)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.CustomTrustStore.Add(root);
        chain.ChainPolicy.ExtraStore.AddRange(intermediates.ToArray());
        return chain.Build(leaf)
            && chain.ChainElements[^1].Certificate.RawData.AsSpan().SequenceEqual(root.RawData);
    }
}
