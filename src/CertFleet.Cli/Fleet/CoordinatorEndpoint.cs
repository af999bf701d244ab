using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using CertFleet.Protocol.Trust;
using Grpc.Core;
using Grpc.Net.Client;

namespace CertFleet.Cli.Fleet;

/// <summary>
/// The channel to one coordinator over mTLS: the admin certificate as client identity, the server must be the
/// coordinator's own identity (serverAuth, its URI, the host dialled) from the fleet CA in admin.conf only (not the
/// system trust store): the fleet CA also issues every node's agent identity.
/// </summary>
internal sealed class CoordinatorEndpoint : IDisposable
{
    private readonly GrpcChannel _channel;
    private readonly X509Certificate2 _fleetCa;

    public CoordinatorEndpoint(Uri server, X509Certificate2 fleetCa, X509Certificate2 clientCertificate)
    {
        Server = server;
        _fleetCa = fleetCa;
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = ConnectTimeout,
            // a coordinator that stopped answering while its socket stays open (frozen, cut off) fails a call in
            // flight within 20 s instead of hanging it: `renew --wait` then follows the rollout through another
            KeepAlivePingDelay = TimeSpan.FromSeconds(10),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = [clientCertificate],
                RemoteCertificateValidationCallback = (_, certificate, chain, _) => IsCoordinator(certificate, chain),
            },
        };
        _channel = GrpcChannel.ForAddress(server, new GrpcChannelOptions
        {
            HttpHandler = handler,
            MaxReceiveMessageSize = 64 * 1024 * 1024,
        });
        Invoker = _channel.CreateCallInvoker();
    }

    /// <summary>How long a connection (TCP and TLS) may take: a frozen coordinator's kernel still accepts the TCP connection.</summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);

    public Uri Server { get; }

    public CallInvoker Invoker { get; }

    /// <summary>Why the server was not taken for the coordinator (so nothing was sent to it), or null.</summary>
    public string? Rejection { get; private set; }

    // .NET's own verdict is ignored: it uses the system trust store and falls back to the subject CN for a host name
    private bool IsCoordinator(X509Certificate? presented, X509Chain? chain)
    {
        if (presented is null)
        {
            Rejection = $"the server at {Server} presented no certificate";
            return false;
        }
        using var certificate = new X509Certificate2(presented);
        var extra = chain?.ChainPolicy.ExtraStore.Cast<X509Certificate2>().ToList() ?? [];
        var problem = CoordinatorIdentity.Problem(certificate, CoordinatorIdentity.HostOf(Server), _fleetCa, extra);
        Rejection = problem is null ? null : $"the server at {Server} is not the coordinator: {problem}";
        return problem is null;
    }

    public void Dispose() => _channel.Dispose();
}
