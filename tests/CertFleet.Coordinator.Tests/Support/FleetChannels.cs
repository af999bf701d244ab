using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using CertFleet.Coordinator.Hosting;
using Grpc.Net.Client;

namespace CertFleet.Coordinator.Tests.Support;

/// <summary>gRPC channels that trust only the fleet CA (as agents and the CLI do), optionally presenting a client certificate.</summary>
public static class FleetChannels
{
    public static GrpcChannel Create(string url, X509Certificate2 fleetCa, X509Certificate2? clientCertificate)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(5),
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                    certificate is X509Certificate2 server && ChainsTo(server, fleetCa),
                LocalCertificateSelectionCallback = clientCertificate is null ? null : (_, _, _, _, _) => clientCertificate,
                ClientCertificates = clientCertificate is null ? null : [clientCertificate],
            },
        };
        return GrpcChannel.ForAddress(url, new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            MaxReceiveMessageSize = CoordinatorHost.MaxMessageBytes,
        });
    }

    public static bool ChainsTo(X509Certificate2 certificate, X509Certificate2 authority, DateTimeOffset? at = null)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.VerificationTime = (at ?? DateTimeOffset.UtcNow).UtcDateTime;
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }
}
