using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace CertFleet.Agent.Enrollment;

/// <summary>
/// Decides whether the coordinator's TLS certificate is trusted: it must chain to the fleet CA (the one Discover
/// returned and the pin matched, or the one stored at enrollment). The system trust store is never consulted: the
/// fleet CA is the coordinator's own.
/// </summary>
internal static class CoordinatorTrust
{
    public static byte[] SpkiHash(X509Certificate2 certificate) =>
        SHA256.HashData(certificate.PublicKey.ExportSubjectPublicKeyInfo());

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
