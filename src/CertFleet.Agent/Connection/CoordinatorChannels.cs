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
    /// For Discover only: any server certificate is accepted and handed to <paramref name="presented"/>, because the
    /// fleet CA is not known yet. Nothing secret is sent on it; what it returns is checked against the pin.
    /// </summary>
    public static GrpcChannel ForDiscovery(Uri coordinator, Action<X509Certificate2> presented)
    {
        var handler = NewHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
        {
            if (certificate is X509Certificate2 server)
            {
                presented(new X509Certificate2(server));
            }
            return certificate is not null;
        };
        return Create(coordinator, handler);
    }

    /// <summary>For Enroll: no client certificate yet; the server must be the coordinator's identity from the discovered, pinned fleet CA.</summary>
    public static GrpcChannel ForEnrollment(Uri coordinator, X509Certificate2 fleetCa, Action<string> rejected)
    {
        var handler = NewHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, chain, _) =>
        {
            if (certificate is not X509Certificate2 server)
            {
                rejected("the coordinator presented no certificate");
                return false;
            }
            var ok = CoordinatorTrust.IsCoordinator(server, CoordinatorTrust.Presented(chain), fleetCa, coordinator, out var reason);
            if (!ok)
            {
                rejected(reason);
            }
            return ok;
        };
        return Create(coordinator, handler);
    }

    /// <summary>mTLS with the agent's identity; the server must be the coordinator's identity from the fleet CA alone.</summary>
    public static GrpcChannel ForIdentity(Uri coordinator, AgentIdentity identity, Action<string> rejected)
    {
        var handler = NewHandler();
        handler.SslOptions.ClientCertificates = [identity.Certificate];
        handler.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => identity.Certificate;
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, chain, _) =>
        {
            if (certificate is not X509Certificate2 server)
            {
                rejected("the coordinator presented no certificate");
                return false;
            }
            var ok = CoordinatorTrust.IsCoordinator(server, CoordinatorTrust.Presented(chain), identity.FleetCa, coordinator, out var reason);
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
        // Keeps a half-dead connection from looking alive for hours behind a NAT, and finds a coordinator that stopped
        // answering while its socket stays open (paused, hung) within 20 s: the agent then moves on to the group's
        // active one. A ping every 10 s is 200 tiny frames a second for 2,000 agents.
        KeepAlivePingDelay = TimeSpan.FromSeconds(10),
        KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
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
