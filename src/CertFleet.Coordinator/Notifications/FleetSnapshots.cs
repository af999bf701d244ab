using CertFleet.Coordinator.Audit;
using CertFleet.Coordinator.Fleet;
using CertFleet.Coordinator.Rollouts;
using CertFleet.Pki;
using CertFleet.Pki.Certificates;
using Google.Protobuf;

namespace CertFleet.Coordinator.Notifications;

/// <summary>
/// Reads a <see cref="FleetSnapshot"/> from the coordinator's state: the nodes' last reports (each certificate parsed
/// once while it stays reported), the rollouts, and the refusals appended to the audit trail since the last read.
/// </summary>
internal sealed class FleetSnapshots(IFleetInventory fleet, RolloutStore rollouts, AuditLog audit, TimeProvider time)
{
    private const int RefusalsPerRead = 1_000;

    private Dictionary<ByteString, WatchedCertificate?> _parsed = [];
    private long? _auditSequence;

    public FleetSnapshot Take()
    {
        var now = time.GetUtcNow();
        var parsed = new Dictionary<ByteString, WatchedCertificate?>();
        var nodes = new List<WatchedNode>();
        foreach (var node in fleet.Nodes())
        {
            var certificates = new List<WatchedCertificate>();
            foreach (var reported in node.Inventory?.Certificates ?? [])
            {
                if (!parsed.TryGetValue(reported.Der, out var certificate))
                {
                    certificate = _parsed.TryGetValue(reported.Der, out var known) ? known : Parse(reported.Der, reported.Path);
                    parsed[reported.Der] = certificate;
                }
                if (certificate is not null)
                {
                    certificates.Add(certificate with { Path = reported.Path });
                }
            }
            nodes.Add(new WatchedNode(node.Name, node.Connected, certificates));
        }
        _parsed = parsed;
        return new FleetSnapshot(now, nodes, rollouts.List(), NewRefusals());
    }

    /// <summary>The refusals after the last one read; none the first time (those before the start were told before it).</summary>
    private List<Protocol.V1.AuditEvent> NewRefusals()
    {
        if (_auditSequence is not { } after)
        {
            _auditSequence = audit.LastSequence();
            return [];
        }
        var page = audit.ReadPage(null, null, after, RefusalsPerRead, AuditPageBytes);
        if (page.Events.Count > 0)
        {
            _auditSequence = page.Events[^1].Sequence;
        }
        return [.. page.Events.Where(e => e.Kind == AuditKinds.Refused)];
    }

    private const long AuditPageBytes = 4 * 1024 * 1024;

    private static WatchedCertificate? Parse(ByteString der, string path)
    {
        try
        {
            var certificate = CertificateInfo.Parse(der.Span, path);
            return new WatchedCertificate(path, certificate.Subject, CommonName(certificate.Subject), certificate.NotAfter,
                certificate.Sha256Fingerprint, certificate.IsCa);
        }
        catch (PkiException)
        {
            return null; // the intake keeps such entries out of the state; one stored before it is not a certificate to watch
        }
    }

    /// <summary>The CN of an RFC 2253 subject ("CN=kube-apiserver,O=..."), or the whole subject when it has none.</summary>
    private static string CommonName(string subject)
    {
        foreach (var part in subject.Split(','))
        {
            if (part.StartsWith("CN=", StringComparison.Ordinal))
            {
                return part[3..];
            }
        }
        return subject;
    }
}
