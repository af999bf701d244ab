using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace CertFleet.Agent.Gates;

/// <summary>GET https://CLIENT-URL/health over mTLS with the node's own etcd client certificate: healthy on {"health":"true"}.</summary>
internal sealed class EtcdHealthProbe(Uri clientUrl, X509Certificate2Collection authorities, X509Certificate2 clientCertificate) : IHealthProbe
{
    public async Task<ProbeResult> ProbeAsync(CancellationToken cancellationToken)
    {
        var url = new Uri(clientUrl, "/health");
        var (status, body, error) = await HttpsProbe.GetAsync(url, authorities, clientCertificate, cancellationToken);
        if (error is not null)
        {
            return new ProbeResult(false, $"GET {url}: {error}");
        }
        return new ProbeResult(status == 200 && IsHealthy(body), $"GET {url}: {status} {body.Trim()}");
    }

    private static bool IsHealthy(string body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            return json.RootElement.TryGetProperty("health", out var health)
                && health.ValueKind == JsonValueKind.String && health.GetString() == "true";
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
