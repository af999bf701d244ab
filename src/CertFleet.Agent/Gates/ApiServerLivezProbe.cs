using System.Security.Cryptography.X509Certificates;

namespace CertFleet.Agent.Gates;

/// <summary>GET https://ADDRESS:SECURE-PORT/livez, trusting the cluster CA: healthy on 200.</summary>
internal sealed class ApiServerLivezProbe(Uri baseUrl, X509Certificate2Collection authorities) : IHealthProbe
{
    public async Task<ProbeResult> ProbeAsync(CancellationToken cancellationToken)
    {
        var url = new Uri(baseUrl, "/livez");
        var (status, body, error) = await HttpsProbe.GetAsync(url, authorities, null, cancellationToken);
        return error is not null
            ? new ProbeResult(false, $"GET {url}: {error}")
            : new ProbeResult(status == 200, $"GET {url}: {status} {body.Trim()}");
    }
}
