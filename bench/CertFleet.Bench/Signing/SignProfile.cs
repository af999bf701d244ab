using System.Diagnostics;
using CertFleet.Bench.Output;
using CertFleet.Coordinator.Audit;
using CertFleet.Coordinator.Fleet;
using CertFleet.Coordinator.Signing;
using CertFleet.Pki.Certificates;
using CertFleet.Pki.Signing;
using CertFleet.Protocol.V1;

namespace CertFleet.Bench.Signing;

/// <summary>Where one renewal's time goes: each stage of the signing path timed on its own, same inputs.</summary>
internal static class SignProfile
{
    public static void Run(int count, RenewalSigner signer, ClusterAuthorities authorities, AuditLog audit,
        NodeRecord record, ReportedCertificate reported, byte[] csr)
    {
        var policy = new SigningPolicy(authorities);
        var issuer = new CertificateIssuer(TimeProvider.System);
        var current = CertificateInfo.Parse(reported.Der.Span, "leaf");
        var authority = authorities.IssuerOf(current)!;
        Stage("parse reported certificate", count, () => CertificateInfo.Parse(reported.Der.Span, "leaf"));
        Stage("policy.RefusalOf", count, () => policy.RefusalOf(record, reported, current));
        Stage("SigningPolicy.RefusalOfRequest", count, () => SigningPolicy.RefusalOfRequest(current, csr));
        Stage("CertificateRequestInfo.Parse", count, () => CertificateRequestInfo.Parse(csr, "csr"));
        Stage("authorities.IssuerOf", count, () => authorities.IssuerOf(current));
        Stage("issuer.Renew", count, () => issuer.Renew(csr, current, authority, TimeSpan.FromDays(365)));
        Stage("audit.Append", count, () =>
        {
            audit.Append(new AuditRecord(AuditKinds.Issued, "coordinator") { Node = "worker-1" });
            return null;
        });
        Stage("signer.Sign (all)", count, () => signer.Sign(record, reported, csr, TimeSpan.FromDays(365), "bench"));
    }

    private static void Stage(string name, int count, Func<object?> stage)
    {
        stage();
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            stage();
        }
        ResultLine.Note($"{name,-34} {clock.Elapsed.TotalMilliseconds * 1000 / count,8:0} us");
    }
}
