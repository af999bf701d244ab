using System.Globalization;
using System.Text;
using CertFleet.Pki;
using CertFleet.Pki.Certificates;

namespace CertFleet.Coordinator.Fleet;

/// <summary>The fleet's expiry view in Prometheus text format, for --metrics-listen (GET /metrics).</summary>
internal sealed class FleetMetrics(IFleetInventory fleet)
{
    public string Render()
    {
        var nodes = fleet.Nodes();
        var text = new StringBuilder();
        text.Append("# HELP certfleet_nodes Enrolled nodes.\n# TYPE certfleet_nodes gauge\n")
            .Append(CultureInfo.InvariantCulture, $"certfleet_nodes {nodes.Count}\n");
        text.Append("# HELP certfleet_agents_connected Nodes whose agent is connected now.\n# TYPE certfleet_agents_connected gauge\n")
            .Append(CultureInfo.InvariantCulture, $"certfleet_agents_connected {nodes.Count(n => n.Connected)}\n");
        text.Append("# HELP certfleet_certificate_not_after_seconds notAfter of each certificate in the nodes' last reports (Unix time).\n")
            .Append("# TYPE certfleet_certificate_not_after_seconds gauge\n");
        foreach (var node in nodes)
        {
            foreach (var reported in node.Inventory?.Certificates ?? [])
            {
                CertificateInfo certificate;
                try
                {
                    certificate = CertificateInfo.Parse(reported.Der.Span, reported.Path);
                }
                catch (PkiException)
                {
                    continue;
                }
                text.Append(CultureInfo.InvariantCulture,
                    $"certfleet_certificate_not_after_seconds{{node=\"{Escape(node.Name)}\",path=\"{Escape(reported.Path)}\",kubeconfig_user=\"{Escape(reported.KubeconfigUser)}\",subject=\"{Escape(certificate.Subject)}\"}} {certificate.NotAfter.ToUnixTimeSeconds()}\n");
            }
        }
        return text.ToString();
    }

    private static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal)
        .Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
