using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CertFleet.Protocol.Trust;

namespace CertFleet.Agent.Enrollment;

/// <summary>
/// Decides whether the TLS server dialled is the coordinator: its certificate must chain to the fleet CA (the one
/// Discover returned and the pin matched, or the one stored at enrollment) and be the coordinator's own server
/// identity for the host dialled (<see cref="CoordinatorIdentity"/>): the fleet CA also issues every node's agent
/// identity, so chaining alone would let any enrolled node pose as the coordinator. The system trust store is
/// never consulted, and .NET's host-name verdict is not used because it falls back to the subject CN.
/// </summary>
internal static class CoordinatorTrust
{
    public static byte[] SpkiHash(X509Certificate2 certificate) =>
        SHA256.HashData(certificate.PublicKey.ExportSubjectPublicKeyInfo());

    /// <summary>True when <paramref name="server"/> is the coordinator's certificate for <paramref name="coordinator"/>.</summary>
    public static bool IsCoordinator(X509Certificate2 server, IEnumerable<X509Certificate2> presented, X509Certificate2 fleetCa,
        Uri coordinator, out string reason)
    {
        var problem = CoordinatorIdentity.Problem(server, CoordinatorIdentity.HostOf(coordinator), fleetCa, presented);
        reason = problem is null ? "" : $"the server at {coordinator} is not the coordinator: {problem}";
        return problem is null;
    }

    /// <summary>The chain presented in a validation callback: the peer's extra certificates and what was built.</summary>
    public static IEnumerable<X509Certificate2> Presented(X509Chain? chain) =>
        chain is null
            ? []
            : chain.ChainPolicy.ExtraStore.Cast<X509Certificate2>().Concat(chain.ChainElements.Select(e => e.Certificate));
}
