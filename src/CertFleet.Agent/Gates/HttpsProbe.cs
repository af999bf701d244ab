using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace CertFleet.Agent.Gates;

/// <summary>An HTTPS GET with the node's own TLS material; a new connection each time so a restarted server is really asked.</summary>
internal static class HttpsProbe
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(5);

    public static async Task<(int? Status, string Body, string? Error)> GetAsync(
        Uri url, X509Certificate2Collection authorities, X509Certificate2? clientCertificate, CancellationToken cancellationToken)
    {
        using var handler = new SocketsHttpHandler
        {
            ConnectTimeout = Limit,
            PooledConnectionLifetime = TimeSpan.Zero,
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = NodeTls.TrustOnly(authorities),
                ClientCertificates = clientCertificate is null ? null : [clientCertificate],
                LocalCertificateSelectionCallback = clientCertificate is null ? null : (_, _, _, _, _) => clientCertificate,
            },
        };
        using var client = new HttpClient(handler) { Timeout = Limit };
        try
        {
            using var response = await client.GetAsync(url, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            return ((int)response.StatusCode, body.Length > 300 ? body[..300] : body, null);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            var reason = e.InnerException is { } inner ? $"{e.Message} ({inner.Message})" : e.Message;
            return (null, "", reason);
        }
    }
}
