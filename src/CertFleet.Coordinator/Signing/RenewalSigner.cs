using CertFleet.Pki;
using CertFleet.Pki.Certificates;
using CertFleet.Pki.Signing;
using CertFleet.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace CertFleet.Coordinator.Signing;

/// <summary>Signs renewals of what nodes reported, under <see cref="SigningPolicy"/>, and renews the coordinator's CAs.</summary>
internal sealed partial class RenewalSigner(ClusterAuthorities authorities, SigningPolicy policy, TimeProvider time, ILogger<RenewalSigner> logger)
{
    private readonly CertificateIssuer _issuer = new(time);

    /// <summary>
    /// The renewal of <paramref name="reported"/> from the node's <paramref name="csrDer"/>, valid for
    /// <paramref name="validity"/>. Throws <see cref="SigningRefusedException"/> when the policy refuses it.
    /// </summary>
    public CertificateInfo Sign(string node, ReportedCertificate reported, ReadOnlySpan<byte> csrDer, TimeSpan validity)
    {
        ArgumentNullException.ThrowIfNull(reported);
        CertificateInfo current;
        try
        {
            current = CertificateInfo.Parse(reported.Der.Span, $"{node}:{reported.Path}");
        }
        catch (PkiException e)
        {
            throw Refused(node, reported, "?", e.Message);
        }
        var reason = policy.RefusalOf(reported, current) ?? SigningPolicy.RefusalOfRequest(current, csrDer);
        if (reason is not null)
        {
            throw Refused(node, reported, current.Subject, reason);
        }
        var authority = authorities.IssuerOf(current)!;
        try
        {
            var renewed = _issuer.Renew(csrDer, current, authority, validity);
            Log.Signed(logger, node, reported.Path, current.Subject, renewed.SerialHex, renewed.NotAfter);
            return renewed;
        }
        catch (PkiException e)
        {
            throw Refused(node, reported, current.Subject, e.Message);
        }
    }

    /// <summary>Renews a coordinator CA certificate with its own key and signs with the new one from then on.</summary>
    public CertificateInfo RenewAuthority(CertificateAuthority authority, TimeSpan validity)
    {
        ArgumentNullException.ThrowIfNull(authority);
        var renewed = _issuer.RenewAuthority(authority, validity);
        authorities.Replace(authority, renewed);
        return renewed;
    }

    private SigningRefusedException Refused(string node, ReportedCertificate reported, string subject, string reason)
    {
        var path = string.IsNullOrEmpty(reported.KubeconfigUser) ? reported.Path : $"{reported.Path} (user {reported.KubeconfigUser})";
        Log.Refused(logger, node, path, subject, reason);
        return new SigningRefusedException(new RefusedCertificate { Node = node, Path = path, Subject = subject, Reason = reason });
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2010, Level = LogLevel.Information, Message = "Signed the renewal of {Subject} ({Path}) for {Node}: serial {Serial}, valid until {NotAfter:u}")]
        public static partial void Signed(ILogger logger, string node, string path, string subject, string serial, DateTimeOffset notAfter);

        [LoggerMessage(EventId = 2011, Level = LogLevel.Warning, Message = "Refused to sign {Subject} ({Path}) for {Node}: {Reason}")]
        public static partial void Refused(ILogger logger, string node, string path, string subject, string reason);
    }
}
