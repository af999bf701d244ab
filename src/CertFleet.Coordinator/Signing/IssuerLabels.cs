using System.Collections.Concurrent;
using System.Security.Cryptography;
using CertFleet.Pki;
using CertFleet.Pki.Certificates;
using Google.Protobuf;

namespace CertFleet.Coordinator.Signing;

/// <summary>
/// Which of the coordinator's CAs issued a reported certificate, as `certfleet status` shows it: "CN (key 1a2b3c4d)",
/// marked old or new while a re-key runs, so an operator sees which CA every certificate chains to. Each answer is
/// remembered by fingerprint (a status page of 2,000 nodes would otherwise check 30,000 signatures) until the
/// coordinator's CAs change.
/// </summary>
internal sealed class IssuerLabels(ClusterAuthorities authorities)
{
    private const int MaxRemembered = 200_000;

    private readonly ConcurrentDictionary<string, string> _labels = new(StringComparer.Ordinal);
    private int _version = -1;

    public string Of(ByteString der)
    {
        ArgumentNullException.ThrowIfNull(der);
        var version = authorities.Version;
        if (Interlocked.Exchange(ref _version, version) != version || _labels.Count > MaxRemembered)
        {
            _labels.Clear();
        }
        var fingerprint = Convert.ToHexString(SHA256.HashData(der.Span));
        return _labels.GetOrAdd(fingerprint, _ => Label(der));
    }

    private string Label(ByteString der)
    {
        try
        {
            var certificate = CertificateInfo.Parse(der.Span, "a reported certificate");
            return authorities.Issued(certificate)?.Authority.Certificate is { } issuer ? authorities.Describe(issuer) : "";
        }
        catch (PkiException)
        {
            return ""; // the node's error for it is in its report
        }
    }
}
