using CertFleet.Coordinator.Audit;
using CertFleet.Coordinator.Fleet;
using CertFleet.Pki;
using CertFleet.Pki.Certificates;
using CertFleet.Pki.Signing;
using CertFleet.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace CertFleet.Coordinator.Signing;

/// <summary>Signs renewals of what nodes reported, under <see cref="SigningPolicy"/>, and renews the coordinator's CAs.</summary>
internal sealed partial class RenewalSigner(ClusterAuthorities authorities, SigningPolicy policy, AuditLog audit, TimeProvider time, ILogger<RenewalSigner> logger)
{
    private readonly CertificateIssuer _issuer = new(time);

    /// <summary>
    /// The renewal of <paramref name="reported"/> from <paramref name="node"/>'s <paramref name="csrDer"/>, valid for
    /// <paramref name="validity"/>. Throws <see cref="SigningRefusedException"/> when the policy refuses it. Both
    /// outcomes are in the audit trail. <paramref name="keep"/> (e.g. "the renewal already issued for a copy of this
    /// certificate") picks the certificate the node is really sent, so the audit names the serial that is installed.
    /// </summary>
    public CertificateInfo Sign(NodeRecord record, ReportedCertificate reported, ReadOnlySpan<byte> csrDer, TimeSpan validity,
        string rolloutId = "", Func<CertificateInfo, CertificateInfo>? keep = null)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(reported);
        var node = record.Name;
        CertificateInfo current;
        try
        {
            current = CertificateInfo.Parse(reported.Der.Span, $"{node}:{reported.Path}");
        }
        catch (PkiException e)
        {
            throw Refused(node, reported, "?", "", e.Message, rolloutId);
        }
        var request = policy.Judge(record, reported, current, csrDer, out var reason)
            ?? throw Refused(node, reported, current.Subject, current.SerialHex, reason, rolloutId);
        // judged against the CA that issued it; signed by that CA's successor once a re-key reached its issue phase
        var authority = authorities.SignerFor(request.Authority);
        try
        {
            var signed = ReferenceEquals(authority, request.Authority) ? _issuer.Renew(request, validity) : _issuer.RenewUnder(request, authority, validity);
            var renewed = keep?.Invoke(signed) ?? signed;
            Log.Signed(logger, node, reported.Path, current.Subject, renewed.SerialHex, renewed.NotAfter);
            audit.Append(new AuditRecord(AuditKinds.Issued, Actor)
            {
                Node = node, Path = DisplayPath(reported), Subject = renewed.Subject, Serial = renewed.SerialHex,
                NotAfter = renewed.NotAfter, PreviousSerial = current.SerialHex, RolloutId = rolloutId,
                Detail = renewed.SerialHex == signed.SerialHex
                    ? $"issued by {authority.Certificate.Subject}"
                    : $"the renewal already issued by {authority.Certificate.Subject} for a copy of this certificate on another node",
            });
            return renewed;
        }
        catch (PkiException e)
        {
            throw Refused(node, reported, current.Subject, current.SerialHex, e.Message, rolloutId);
        }
    }

    /// <summary>Renews a coordinator CA certificate with its own key and signs with the new one from then on.</summary>
    public CertificateInfo RenewAuthority(CertificateAuthority authority, TimeSpan validity)
    {
        ArgumentNullException.ThrowIfNull(authority);
        var renewed = _issuer.RenewAuthority(authority, validity);
        authorities.Replace(authority, renewed);
        audit.Append(new AuditRecord(AuditKinds.CaRenewed, "coordinator")
        {
            Subject = renewed.Subject, Serial = renewed.SerialHex, NotAfter = renewed.NotAfter,
            PreviousSerial = authority.Certificate.SerialHex, Detail = "same key, same subject key identifier",
        });
        return renewed;
    }

    private SigningRefusedException Refused(string node, ReportedCertificate reported, string subject, string serial, string reason, string rolloutId)
    {
        var path = DisplayPath(reported);
        Log.Refused(logger, node, path, subject, reason);
        audit.Append(new AuditRecord(AuditKinds.Refused, Actor)
        {
            Node = node, Path = path, Subject = subject, PreviousSerial = serial, Reason = reason, RolloutId = rolloutId,
        });
        return new SigningRefusedException(new RefusedCertificate { Node = node, Path = path, Subject = subject, Reason = reason });
    }

    private static string DisplayPath(ReportedCertificate reported) =>
        string.IsNullOrEmpty(reported.KubeconfigUser) ? reported.Path : $"{reported.Path} (user {reported.KubeconfigUser})";

    // the coordinator signs inside a rollout; the record's rollout id says which (and that rollout's start record, who asked)
    private const string Actor = "coordinator";

    private static partial class Log
    {
        [LoggerMessage(EventId = 2010, Level = LogLevel.Information, Message = "Signed the renewal of {Subject} ({Path}) for {Node}: serial {Serial}, valid until {NotAfter:u}")]
        public static partial void Signed(ILogger logger, string node, string path, string subject, string serial, DateTimeOffset notAfter);

        [LoggerMessage(EventId = 2011, Level = LogLevel.Warning, Message = "Refused to sign {Subject} ({Path}) for {Node}: {Reason}")]
        public static partial void Refused(ILogger logger, string node, string path, string subject, string reason);
    }
}
