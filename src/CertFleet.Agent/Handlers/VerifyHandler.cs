using CertFleet.Pki.Verification;
using CertFleet.Protocol.V1;

namespace CertFleet.Agent.Handlers;

/// <summary>VerifyRequest: `verify --local` on this node.</summary>
internal sealed class VerifyHandler(NodeAccess node, TimeProvider time)
{
    public VerifyResponse Handle(VerifyRequest request)
    {
        using var inventory = node.Scan();
        var threshold = TimeSpan.FromDays(Math.Max(0, request.WarnWithinDays));
        var report = new LocalVerifier(time).Verify(inventory, threshold);
        var response = new VerifyResponse
        {
            Passed = report.Passed,
            CertificatesChecked = report.CertificatesChecked,
            UnitsChecked = report.UnitsChecked,
        };
        response.Problems.Add(report.Problems.Select(p => new Protocol.V1.VerificationProblem
        {
            Path = p.Path,
            KubeconfigUser = p.KubeconfigUser ?? "",
            Unit = p.Unit ?? "",
            Problem = p.Problem,
        }));
        return response;
    }
}
