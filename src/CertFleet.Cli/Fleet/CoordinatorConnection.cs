using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using CertFleet.Protocol.V1;
using Grpc.Net.Client;

namespace CertFleet.Cli.Fleet;

/// <summary>
/// A gRPC channel to the coordinator's admin API over mTLS: the admin certificate as client identity, the
/// server checked against the fleet CA from admin.conf only (not the system trust store).
/// </summary>
internal sealed class CoordinatorConnection : IDisposable
{
    private readonly GrpcChannel _channel;
    private readonly X509Certificate2 _clientCertificate;
    private readonly X509Certificate2 _fleetCa;

    public CoordinatorConnection(AdminConfigFile config)
    {
        Server = config.Server;
        _fleetCa = X509Certificate2.CreateFromPem(config.CaPem);
        _clientCertificate = X509Certificate2.CreateFromPem(config.CertificatePem, config.KeyPem);
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(10),
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = [_clientCertificate],
                RemoteCertificateValidationCallback = (_, certificate, _, _) => IsIssuedByFleetCa(certificate),
            },
        };
        _channel = GrpcChannel.ForAddress(config.Server, new GrpcChannelOptions
        {
            HttpHandler = handler,
            MaxReceiveMessageSize = 64 * 1024 * 1024,
        });
        Admin = new AdminService.AdminServiceClient(_channel);
    }

    public Uri Server { get; }

    public AdminService.AdminServiceClient Admin { get; }

    private bool IsIssuedByFleetCa(X509Certificate? presented)
    {
        if (presented is null)
        {
            return false;
        }
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(_fleetCa);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var certificate = new X509Certificate2(presented);
        return chain.Build(certificate);
    }

    public void Dispose()
    {
        _channel.Dispose();
        _clientCertificate.Dispose();
        _fleetCa.Dispose();
    }
}
