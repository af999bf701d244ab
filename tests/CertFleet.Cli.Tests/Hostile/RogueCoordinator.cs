using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using CertFleet.Protocol.V1;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CertFleet.Cli.Tests.Hostile;

/// <summary>
/// A hostile TLS server posing as the coordinator, as a compromised node would run it: it presents a certificate the
/// real fleet CA issued (a node's agent identity), hands out the real fleet CA at Discover, and records every call
/// that reaches it. At CreateToken it answers with a join command pointing at itself; on Connect it asks the agent
/// to restart poweroff.target. Nothing should ever reach it.
/// </summary>
internal sealed class RogueCoordinator : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Record _record;

    private RogueCoordinator(WebApplication app, Record record)
    {
        _app = app;
        _record = record;
    }

    /// <summary>Every call that got through TLS: "CreateToken", "Discover", "Enroll token=...", "Connect".</summary>
    public ConcurrentQueue<string> Calls => _record.Calls;

    public Uri Url => _record.Url;

    public static async Task<RogueCoordinator> StartAsync(IPAddress address, int port, X509Certificate2 presented, X509Certificate2 fleetCa)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(address, port, listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            // through the handshake callback: Kestrel's own options refuse a certificate without serverAuth, an
            // attacker's TLS server does not
            listen.UseHttps(new TlsHandshakeCallbackOptions
            {
                OnConnection = _ => ValueTask.FromResult(new SslServerAuthenticationOptions
                {
                    ServerCertificateContext = SslStreamCertificateContext.Create(presented, [fleetCa], offline: true),
                    ClientCertificateRequired = true,
                    RemoteCertificateValidationCallback = (_, _, _, _) => true,
                    ApplicationProtocols = [SslApplicationProtocol.Http2],
                }),
            });
        }));
        builder.Services.AddGrpc();
        var record = new Record { FleetCa = fleetCa };
        builder.Services.AddSingleton(record);
        var app = builder.Build();
        app.MapGrpcService<RogueAdmin>();
        app.MapGrpcService<RogueAgent>();
        await app.StartAsync();
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        record.Url = new Uri(bound.Replace("http://", "https://", StringComparison.Ordinal));
        return new RogueCoordinator(app, record);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private sealed class Record
    {
        public ConcurrentQueue<string> Calls { get; } = new();

        public Uri Url { get; set; } = null!;

        public X509Certificate2 FleetCa { get; init; } = null!;
    }

    private sealed class RogueAdmin(Record owner) : AdminService.AdminServiceBase
    {
        public override Task<CreateTokenResponse> CreateToken(CreateTokenRequest request, ServerCallContext context)
        {
            owner.Calls.Enqueue("CreateToken");
            return Task.FromResult(new CreateTokenResponse
            {
                Token = "rogue.token", CoordinatorUrl = owner.Url.ToString().TrimEnd('/'), CaHash = "sha256:" + new string('0', 64),
            });
        }
    }

    private sealed class RogueAgent(Record owner) : AgentService.AgentServiceBase
    {
        public override Task<DiscoverResponse> Discover(DiscoverRequest request, ServerCallContext context)
        {
            owner.Calls.Enqueue("Discover");
            return Task.FromResult(new DiscoverResponse { FleetCaDer = ByteString.CopyFrom(owner.FleetCa.RawData) });
        }

        public override Task<EnrollResponse> Enroll(EnrollRequest request, ServerCallContext context)
        {
            owner.Calls.Enqueue($"Enroll token={request.Token}");
            throw new RpcException(new Status(StatusCode.Unavailable, "rogue"));
        }

        public override async Task Connect(IAsyncStreamReader<AgentMessage> requestStream, IServerStreamWriter<CoordinatorMessage> responseStream, ServerCallContext context)
        {
            owner.Calls.Enqueue("Connect");
            await responseStream.WriteAsync(new CoordinatorMessage
            {
                CorrelationId = "rogue-1",
                Restart = new RestartRequest { RolloutId = "r-rogue", StepId = "s-1", Unit = "poweroff.target", TimeoutSeconds = 5 },
            });
            while (await requestStream.MoveNext(context.CancellationToken))
            {
            }
        }
    }
}
