using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CertFleet.Protocol.V1;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace CertFleet.Bench.Fleet;

/// <summary>
/// A light agent: its own mTLS identity (enrolled with a token through the real Enroll call) and its own
/// connection, one Connect stream, answers from a <see cref="SimulatedNode"/>; restarts and gates are no-ops.
/// Everything is async: thousands of them share the thread pool.
/// </summary>
internal sealed class SimulatedAgent(SimulatedNode node, X509Certificate2 fleetCa) : IAsyncDisposable
{
    private GrpcChannel? _channel;
    private AsyncDuplexStreamingCall<AgentMessage, CoordinatorMessage>? _call;
    private Task? _serving;
    private X509Certificate2? _identity;

    public SimulatedNode Node { get; } = node;

    public int Answered { get; private set; }

    /// <summary>The real enrollment: a new EC key, a CSR for CN=node, the token; the identity comes back signed by the fleet CA.</summary>
    public async Task EnrollAsync(AgentService.AgentServiceClient anonymous, string token, CancellationToken cancellationToken)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = new CertificateRequest($"CN={Node.Name}", key, HashAlgorithmName.SHA256).CreateSigningRequest();
        var response = await anonymous.EnrollAsync(new EnrollRequest { Token = token, Node = Node.Name, CsrDer = ByteString.CopyFrom(csr) },
            cancellationToken: cancellationToken).ConfigureAwait(false);
        using var certificate = X509CertificateLoader.LoadCertificate(response.CertificateDer.ToByteArray());
        _identity = certificate.CopyWithPrivateKey(key);
    }

    /// <summary>Opens the stream and sends hello and the inventory, as the real agent does on connect.</summary>
    public async Task ConnectAsync(Uri server, CancellationToken cancellationToken)
    {
        _channel = Channel(server, fleetCa, _identity ?? throw new BenchException($"{Node.Name} is not enrolled"));
        _call = new AgentService.AgentServiceClient(_channel).Connect(cancellationToken: cancellationToken);
        await _call.RequestStream.WriteAsync(new AgentMessage { Hello = new Hello { Node = Node.Name, AgentVersion = "bench" } }, cancellationToken).ConfigureAwait(false);
        await _call.RequestStream.WriteAsync(new AgentMessage { Inventory = Node.Report() }, cancellationToken).ConfigureAwait(false);
        _serving = ServeAsync(_call, cancellationToken);
    }

    public static GrpcChannel Channel(Uri server, X509Certificate2 fleetCa, X509Certificate2? identity) =>
        GrpcChannel.ForAddress(server, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                ConnectTimeout = TimeSpan.FromSeconds(30),
                SslOptions = new SslClientAuthenticationOptions
                {
                    ClientCertificates = identity is null ? null : [identity],
                    LocalCertificateSelectionCallback = identity is null ? null : (_, _, _, _, _) => identity,
                    RemoteCertificateValidationCallback = (_, presented, _, _) => IssuedBy(presented, fleetCa),
                },
            },
            DisposeHttpClient = true,
            MaxReceiveMessageSize = 64 * 1024 * 1024,
        });

    public async ValueTask DisposeAsync()
    {
        if (_call is not null)
        {
            try
            {
                await _call.RequestStream.CompleteAsync().WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            }
            catch (Exception e) when (e is RpcException or InvalidOperationException or TimeoutException or IOException)
            {
                // the coordinator is gone already
            }
            _call.Dispose();
        }
        if (_serving is not null)
        {
            await _serving.WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
        }
        _channel?.Dispose();
        _identity?.Dispose();
    }

    private async Task ServeAsync(AsyncDuplexStreamingCall<AgentMessage, CoordinatorMessage> call, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var request in call.ResponseStream.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                var answer = Answer(request);
                answer.CorrelationId = request.CorrelationId;
                await call.RequestStream.WriteAsync(answer, cancellationToken).ConfigureAwait(false);
                Answered++;
            }
        }
        catch (Exception e) when (e is RpcException or OperationCanceledException or IOException or InvalidOperationException)
        {
            // the stream ends with the bench
        }
    }

    private AgentMessage Answer(CoordinatorMessage request) => request.BodyCase switch
    {
        CoordinatorMessage.BodyOneofCase.InventoryRequest => new AgentMessage { Inventory = Node.Report() },
        CoordinatorMessage.BodyOneofCase.CsrRequest => new AgentMessage { Csrs = Node.Csrs(request.CsrRequest) },
        CoordinatorMessage.BodyOneofCase.Install => new AgentMessage { StepResult = Node.Install(request.Install) },
        CoordinatorMessage.BodyOneofCase.Restart => new AgentMessage
        {
            StepResult = new StepResult { StepId = request.Restart.StepId, Ok = true, Message = $"{request.Restart.Unit} restarted (bench: no-op)" },
        },
        CoordinatorMessage.BodyOneofCase.Rollback => new AgentMessage
        {
            StepResult = new StepResult { StepId = request.Rollback.StepId, Ok = true, Message = "rolled back (bench: no-op)" },
        },
        CoordinatorMessage.BodyOneofCase.Verify => new AgentMessage { Verification = new VerifyResponse { Passed = true, CertificatesChecked = 2 } },
        _ => new AgentMessage { Heartbeat = new Heartbeat() },
    };

    private static bool IssuedBy(X509Certificate? presented, X509Certificate2 fleetCa)
    {
        if (presented is null)
        {
            return false;
        }
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(fleetCa);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var certificate = new X509Certificate2(presented);
        return chain.Build(certificate);
    }
}
