using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using CertFleet.Pki;
using CertFleet.Pki.Certificates;
using CertFleet.Pki.Files;

namespace CertFleet.Agent.Gates;

/// <summary>
/// Connects to each TLS endpoint a unit serves and compares the serial presented with the serial of the certificate
/// now in the file the unit names: a service that did not reload its files still serves the old one.
/// </summary>
internal static class EndpointCheck
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(5);

    /// <summary>One line per endpoint; Ok only when every endpoint presents the file's certificate.</summary>
    public static async Task<ProbeResult> RunAsync(NodeRoot root, IReadOnlyList<ServedEndpoint> endpoints, CancellationToken cancellationToken)
    {
        var lines = new List<string>();
        var ok = true;
        foreach (var endpoint in endpoints)
        {
            string expected;
            if (!File.Exists(root.Resolve(endpoint.CertificatePath)))
            {
                // e.g. a kubelet that keeps its serving certificate in memory: nothing was installed there to look for
                lines.Add($"{endpoint}: {endpoint.CertificatePath} does not exist on the node; not checked");
                continue;
            }
            try
            {
                expected = NodeTls.FirstCertificate(root, endpoint.CertificatePath).SerialHex;
            }
            catch (PkiException e)
            {
                ok = false;
                lines.Add($"{endpoint}: cannot read the certificate file: {e.Message}");
                continue;
            }
            var (served, error) = await ServedCertificateAsync(endpoint, cancellationToken);
            if (served is null)
            {
                ok = false;
                lines.Add($"{endpoint}: no certificate presented ({error})");
            }
            else if (!string.Equals(served.SerialHex, expected, StringComparison.OrdinalIgnoreCase))
            {
                ok = false;
                lines.Add($"{endpoint}: serves serial {served.SerialHex}, but {endpoint.CertificatePath} holds serial {expected} (the service did not load the new file)");
            }
            else
            {
                lines.Add($"{endpoint}: serves serial {served.SerialHex} from {endpoint.CertificatePath}");
            }
        }
        return new ProbeResult(ok, string.Join("\n", lines));
    }

    private static async Task<(CertificateInfo? Served, string? Error)> ServedCertificateAsync(ServedEndpoint endpoint, CancellationToken cancellationToken)
    {
        byte[]? presented = null;
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(Limit);
        try
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(endpoint.Host.Trim('[', ']'), endpoint.Port, limit.Token);
            await using var tls = new SslStream(tcp.GetStream());
            var options = new SslClientAuthenticationOptions
            {
                TargetHost = endpoint.Host.Trim('[', ']'),
                // Only the presented certificate is wanted here, not trust: that is the health probe's job.
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                {
                    presented = certificate?.GetRawCertData();
                    return true;
                },
            };
            await tls.AuthenticateAsClientAsync(options, limit.Token);
        }
        catch (Exception e) when (presented is null && e is IOException or SocketException or OperationCanceledException or System.Security.Authentication.AuthenticationException
            && !cancellationToken.IsCancellationRequested)
        {
            return (null, e.Message);
        }
        catch (Exception e) when (presented is not null && e is IOException or System.Security.Authentication.AuthenticationException)
        {
            // The server asked for a client certificate after showing its own; what it showed is what counts.
        }
        return (CertificateInfo.Parse(presented!, $"certificate presented by {endpoint}"), null);
    }
}
