using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using CertFleet.Agent.Enrollment;
using Grpc.Net.Client;

namespace CertFleet.Agent.Connection;

/// <summary>gRPC channels to the coordinator: pinned TLS for enrollment, mTLS with the agent identity afterwards.</summary>
internal static class CoordinatorChannels
{
    /// <summary>Inventories of thousands of certificates stay far below this.</summary>
    public const int MaxMessageBytes = 16 * 1024 * 1024;

    /// <summary>
    /// The enrollment channel. When the coordinator sends a certificate with the pinned SPKI hash in its TLS chain, the
    /// chain is checked here, before the token is sent. When it does not (a self-signed root is usually left out), the
    /// server certificate is handed to <paramref name="presented"/> and checked against the fleet CA Enroll returns,
    /// before anything is stored. <paramref name="rejected"/> hears why a server was refused.
    /// </summary>
    public static GrpcChannel ForEnrollment(Uri coordinator, byte[] pin, Action<string> rejected, Action<X509Certificate2> presented)
    {
        var handler = NewHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
        {
            if (certificate is not X509Certificate2 server)
            {
                rejected("the coordinator presented no certificate");
                return false;
            }
            if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
            {
                rejected($"its certificate ({server.Subject}) is not for the address dialled, {coordinator.Host}");
                return false;
            }
            presented(X509CertificateLoader.LoadCertificate(server.RawData));
            var chainCertificates = CoordinatorTrust.Presented(chain).ToList();
            if (!chainCertificates.Any(c => CoordinatorTrust.SpkiHash(c).AsSpan().SequenceEqual(pin)))
            {
                return true; // checked against the fleet CA in the Enroll answer
            }
            var ok = CoordinatorTrust.IsPinned(server, chainCertificates, pin, errors, out var reason);
            if (!ok)
            {
                rejected(reason);
            }
            return ok;
        };
        return Create(coordinator, handler);
    }

    /// <summary>mTLS with the agent's identity; the server must chain to the fleet CA alone.</summary>
    public static GrpcChannel ForIdentity(Uri coordinator, AgentIdentity identity, Action<string> rejected)
    {
        var handler = NewHandler();
        handler.SslOptions.ClientCertificates = [identity.Certificate];
        handler.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => identity.Certificate;
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
        {
            if (certificate is not X509Certificate2 server)
            {
                rejected("the coordinator presented no certificate");
                return false;
            }
            var ok = CoordinatorTrust.IsIssuedByFleetCa(server, CoordinatorTrust.Presented(chain), identity.FleetCa, errors, out var reason);
            if (!ok)
            {
                rejected(reason);
            }
            return ok;
        };
        return Create(coordinator, handler);
    }

    private static SocketsHttpHandler NewHandler() => new()
    {
        EnableMultipleHttp2Connections = true,
        ConnectTimeout = TimeSpan.FromSeconds(10),
        // Keeps a half-dead connection from looking alive for hours behind a NAT.
        KeepAlivePingDelay = TimeSpan.FromSeconds(30),
        KeepAlivePingTimeout = TimeSpan.FromSeconds(20),
        SslOptions = new SslClientAuthenticationOptions(),
    };

    private static GrpcChannel Create(Uri coordinator, SocketsHttpHandler handler) =>
        GrpcChannel.ForAddress(coordinator, new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            MaxReceiveMessageSize = MaxMessageBytes,
            MaxSendMessageSize = MaxMessageBytes,
        });
}
