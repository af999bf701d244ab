using CertFleet.Pki;
using CertFleet.Pki.Certificates;
using CertFleet.Protocol.V1;

namespace CertFleet.Cli.Output;

/// <summary>
/// A node's report as the fleet views show it. The coordinator checks reports as they arrive, but one from before
/// that check (or from a coordinator that is not this release) may still hold bytes that are not a certificate: such
/// an entry becomes that node's error, named by its path, so one bad report never takes the whole view down.
/// </summary>
internal static class ReportedCertificates
{
    public static (IReadOnlyList<CertificateView> Certificates, IReadOnlyList<(string Path, string Message)> Errors) Of(NodeStatus node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var views = new List<CertificateView>();
        var errors = node.Errors.Select(e => (e.Path, e.Message)).ToList();
        foreach (var reported in node.Certificates)
        {
            if (StrictDer.Violation(reported.Der.Memory) is { } violation)
            {
                errors.Add((reported.Path, $"the agent reported bytes that are not a DER certificate ({violation}); "
                    + "run `certfleet check-expiration` on the node to see the file"));
                continue;
            }
            try
            {
                views.Add(CertificateView.From(reported));
            }
            catch (PkiException e)
            {
                errors.Add((reported.Path, $"the agent reported something that is not a certificate CertFleet can read ({e.Message}); "
                    + "run `certfleet check-expiration` on the node to see the file"));
            }
        }
        return (views, errors);
    }
}
