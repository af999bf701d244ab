using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace CertFleet.Protocol.Trust;

/// <summary>
/// What makes a TLS server the coordinator, for its two clients (the CLI and the agent). The fleet CA also issues
/// every agent identity and the admin credential, so "chains to the fleet CA" alone would let any enrolled node pose
/// as the coordinator. The coordinator's server certificate is the only one with the serverAuth usage and the URI
/// <see cref="ServerUri"/>; agent identities and the admin credential carry clientAuth and no SAN at all, so no node
/// name can ever produce it. The dialled host must be among its SANs: the subject CN is never taken as a host name.
/// </summary>
public static class CoordinatorIdentity
{
    /// <summary>The URI SAN of the coordinator's server certificate, and of nothing else the fleet CA issues.</summary>
    public const string ServerUri = "urn:certfleet:coordinator";

    public const string ServerAuthOid = "1.3.6.1.5.5.7.3.1";

    /// <summary>
    /// Null when <paramref name="server"/> is the coordinator's server certificate for <paramref name="host"/>,
    /// issued by <paramref name="fleetCa"/> and valid now; otherwise what is wrong with it, for the operator.
    /// </summary>
    public static string? Problem(X509Certificate2 server, string host, X509Certificate2 fleetCa,
        IEnumerable<X509Certificate2>? intermediates = null, DateTime? at = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(fleetCa);
        var what = $"its certificate ({server.Subject})";
        if (!ChainsTo(server, fleetCa, intermediates, at))
        {
            return $"{what} was not issued by the fleet CA (or is not valid now)";
        }
        if (!HasServerAuth(server))
        {
            return $"{what} is not a server certificate (no serverAuth usage): it is a client identity of the fleet, "
                + "such as an enrolled node's, not the coordinator's";
        }
        var names = server.Extensions.OfType<X509SubjectAlternativeNameExtension>().FirstOrDefault();
        if (names is null || !HasServerUri(names))
        {
            return $"{what} does not carry the coordinator identity {ServerUri}; if this is your coordinator, "
                + "restart it with this CertFleet version: it issues itself a new server certificate at start";
        }
        if (!NamesHost(names, host))
        {
            var named = string.Join(", ", names.EnumerateDnsNames().Concat(names.EnumerateIPAddresses().Select(ip => ip.ToString())));
            return $"{what} does not name {host} (it names {named}); dial one of those, or restart the coordinator with --listen {host}:PORT";
        }
        return null;
    }

    /// <summary>The host part of a coordinator URL as the certificate names it (no IPv6 brackets).</summary>
    public static string HostOf(Uri coordinator) => coordinator.DnsSafeHost;

    private static bool HasServerAuth(X509Certificate2 certificate)
    {
        var usages = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().ToList();
        return usages.Count == 1 && usages[0].EnhancedKeyUsages.Cast<Oid>().Any(o => o.Value == ServerAuthOid)
            && certificate.Extensions.OfType<X509BasicConstraintsExtension>().All(b => !b.CertificateAuthority);
    }

    private static bool HasServerUri(X509SubjectAlternativeNameExtension names)
    {
        // SubjectAlternativeNameExtension has no URI enumerator: read the GeneralNames ([6] IA5String) directly
        var reader = new System.Formats.Asn1.AsnReader(names.RawData, System.Formats.Asn1.AsnEncodingRules.DER);
        try
        {
            var sequence = reader.ReadSequence();
            var uri = new System.Formats.Asn1.Asn1Tag(System.Formats.Asn1.TagClass.ContextSpecific, 6);
            while (sequence.HasData)
            {
                var tag = sequence.PeekTag();
                if (tag == uri)
                {
                    if (sequence.ReadCharacterString(System.Formats.Asn1.UniversalTagNumber.IA5String, uri) == ServerUri)
                    {
                        return true;
                    }
                }
                else
                {
                    sequence.ReadEncodedValue();
                }
            }
        }
        catch (System.Formats.Asn1.AsnContentException)
        {
            return false;
        }
        return false;
    }

    private static bool NamesHost(X509SubjectAlternativeNameExtension names, string host)
    {
        if (IPAddress.TryParse(host, out var address))
        {
            return names.EnumerateIPAddresses().Any(a => a.Equals(address));
        }
        return names.EnumerateDnsNames().Any(n => string.Equals(n, host.TrimEnd('.'), StringComparison.OrdinalIgnoreCase));
    }

    private static bool ChainsTo(X509Certificate2 leaf, X509Certificate2 root, IEnumerable<X509Certificate2>? intermediates, DateTime? at)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.CustomTrustStore.Add(root);
        if (intermediates is not null)
        {
            chain.ChainPolicy.ExtraStore.AddRange(intermediates.ToArray());
        }
        if (at is { } time)
        {
            chain.ChainPolicy.VerificationTime = time;
        }
        return chain.Build(leaf) && chain.ChainElements[^1].Certificate.RawDataMemory.Span.SequenceEqual(root.RawDataMemory.Span);
    }
}
