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
        NodeRecord record, ReportedCertificate[] reported, byte[][] csrs)
    {
        var policy = new SigningPolicy(authorities);
        var issuer = new CertificateIssuer(TimeProvider.System);
        var current = reported.Select(r => CertificateInfo.Parse(r.Der.Span, "leaf")).ToArray();
        var n = reported.Length;
        // each stage cycles through the distinct certificates, as the signing bench does, so no stage is a repeat
        Stage("parse reported certificate", count, i => CertificateInfo.Parse(reported[i % n].Der.Span, "leaf"));
        Stage("policy.RefusalOf", count, i => policy.RefusalOf(record, reported[i % n], current[i % n]));
        Stage("authorities.Issued", count, i => authorities.Issued(current[i % n]));
        var issued = current.Select(c => authorities.Issued(c)!).ToArray();
        Stage("CertificateRequestInfo.Parse", count, i => CertificateRequestInfo.Parse(csrs[i % n], "csr"));
        Stage("RenewalRequest.Read", count, i => RenewalRequest.Read(csrs[i % n], issued[i % n]));
        Stage("policy.Judge (all checks)", count, i => policy.Judge(record, reported[i % n], current[i % n], csrs[i % n], out _));
        var requests = issued.Select((c, i) => RenewalRequest.Read(csrs[i], c)).ToArray();
        Stage("issuer.Renew(request)", count, i => issuer.Renew(requests[i % n], TimeSpan.FromDays(365)));
        Stage("audit.Append", count, i =>
        {
            audit.Append(new AuditRecord(AuditKinds.Issued, "coordinator") { Node = "worker-1" });
            return null;
        });
        Stage("signer.Sign (all)", count, i => signer.Sign(record, reported[i % n], csrs[i % n], TimeSpan.FromDays(365), "bench"));
    }

    private static void Stage(string name, int count, Func<int, object?> stage)
    {
        stage(0);
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            stage(i);
        }
        ResultLine.Note($"{name,-34} {clock.Elapsed.TotalMilliseconds * 1000 / count,8:0} us");
    }
}
