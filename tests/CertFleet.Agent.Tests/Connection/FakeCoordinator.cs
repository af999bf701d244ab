using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Channels;
using CertFleet.Agent.Tests.Enrollment;
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

namespace CertFleet.Agent.Tests.Connection;

/// <summary>
/// A stand-in coordinator over real gRPC and TLS on 127.0.20.1: a fleet CA of its own, Enroll with one good token,
/// and a Connect stream whose traffic the test reads and writes. The real coordinator is another helper's part.
/// Several share one fleet CA to stand for a coordinator group; one made a standby refuses Enroll and Connect as a
/// standby does (Unavailable, the active one's URL in the certfleet-active-coordinator trailer).
/// </summary>
internal sealed class FakeCoordinator : IAsyncDisposable
{
    public const string GoodToken = "abcdef.0123456789abcdef";

    private readonly WebApplication _app;
    private readonly bool _ownsCa;

    private FakeCoordinator(WebApplication app, X509Certificate2 ca, X509Certificate2 server, bool ownsCa)
    {
        _app = app;
        Ca = ca;
        Server = server;
        _ownsCa = ownsCa;
    }

    /// <summary>Set: a standby, which refuses Enroll and Connect; its value is the active one it names (null: not known).</summary>
    public StandbyRole? Standby { get; set; }

    /// <summary>Enroll and Connect calls refused as a standby.</summary>
    public int Refused => Volatile.Read(ref _refused);

    private int _refused;

    /// <summary>Enroll calls that reached this coordinator, refused or not.</summary>
    public int EnrollCalls => Volatile.Read(ref _enrollCalls);

    private int _enrollCalls;

    public X509Certificate2 Ca { get; }

    public X509Certificate2 Server { get; }

    public Uri Url { get; private set; } = null!;

    /// <summary>What agents sent on Connect, in order.</summary>
    public Channel<AgentMessage> Received { get; } = Channel.CreateUnbounded<AgentMessage>();

    /// <summary>Requests to send on the next (or current) Connect stream.</summary>
    public Channel<CoordinatorMessage> ToSend { get; } = Channel.CreateUnbounded<CoordinatorMessage>();

    /// <summary>Ends every open Connect stream, as a coordinator restart would.</summary>
    public void DropStreams()
    {
        var old = Interlocked.Exchange(ref _drop, new CancellationTokenSource());
        old.Cancel();
        old.Dispose();
    }

    private CancellationTokenSource _drop = new();

    /// <summary>The CN of each client certificate a Connect stream was opened with.</summary>
    public List<string> ConnectedAs { get; } = [];

    /// <param name="listenAddress">loopback address to listen on; tests of other areas use their own range</param>
    /// <param name="groupCa">the fleet CA of the group this one belongs to (kept by the caller); null: one of its own</param>
    public static async Task<FakeCoordinator> StartAsync(string listenAddress = "127.0.20.1", X509Certificate2? groupCa = null)
    {
        var ca = groupCa ?? TestCertificates.CreateCa("certfleet-fleet-ca");
        var server = TestCertificates.CreateServer(ca, listenAddress);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Parse(listenAddress), 0, listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            listen.UseHttps(new HttpsConnectionAdapterOptions
            {
                ServerCertificate = server,
                ServerCertificateChain = [ca],
                ClientCertificateMode = ClientCertificateMode.AllowCertificate,
                ClientCertificateValidation = (_, _, _) => true,
            });
        }));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton<FakeAgentService>();
        var app = builder.Build();
        var coordinator = new FakeCoordinator(app, ca, server, ownsCa: groupCa is null);
        app.Services.GetRequiredService<FakeAgentService>().Coordinator = coordinator;
        app.MapGrpcService<FakeAgentService>();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        coordinator.Url = new Uri(address.Replace("http://", "https://", StringComparison.Ordinal));
        return coordinator;
    }

    public async Task<AgentMessage> NextAsync(AgentMessage.BodyOneofCase kind, TimeSpan? limit = null)
    {
        using var timeout = new CancellationTokenSource(limit ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            var message = await Received.Reader.ReadAsync(timeout.Token);
            if (message.BodyCase == kind)
            {
                return message;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Server.Dispose();
        if (_ownsCa)
        {
            Ca.Dispose();
        }
    }

    /// <summary>How a standby answers: the active coordinator's URL for the trailer, or null when it names none.</summary>
    public sealed record StandbyRole(Uri? Active);

    private void RefuseIfStandby()
    {
        if (Standby is not { } standby)
        {
            return;
        }
        Interlocked.Increment(ref _refused);
        var trailers = new Metadata();
        if (standby.Active is not null)
        {
            trailers.Add("certfleet-active-coordinator", standby.Active.ToString().TrimEnd('/'));
        }
        throw new RpcException(new Status(StatusCode.Unavailable,
            $"certfleet-coordinator {Url} is a standby of its coordinator group; the active one is {standby.Active?.ToString() ?? "not known"}"), trailers);
    }

    private sealed class FakeAgentService : AgentService.AgentServiceBase
    {
        public FakeCoordinator Coordinator { get; set; } = null!;

        public override Task<DiscoverResponse> Discover(DiscoverRequest request, ServerCallContext context) =>
            Task.FromResult(new DiscoverResponse { FleetCaDer = ByteString.CopyFrom(Coordinator.Ca.RawData) });

        public override Task<EnrollResponse> Enroll(EnrollRequest request, ServerCallContext context)
        {
            Interlocked.Increment(ref Coordinator._enrollCalls);
            Coordinator.RefuseIfStandby();
            if (request.Token != GoodToken)
            {
                throw new RpcException(new Status(StatusCode.PermissionDenied, "the bootstrap token is unknown or expired"));
            }
            using var issued = TestCertificates.IssueClient(Coordinator.Ca, request.CsrDer.ToByteArray(), request.Node);
            return Task.FromResult(new EnrollResponse
            {
                CertificateDer = ByteString.CopyFrom(issued.RawData),
                FleetCaDer = ByteString.CopyFrom(Coordinator.Ca.RawData),
                Role = "worker",
            });
        }

        public override async Task Connect(IAsyncStreamReader<AgentMessage> requestStream, IServerStreamWriter<CoordinatorMessage> responseStream, ServerCallContext context)
        {
            Coordinator.RefuseIfStandby();
            var client = context.GetHttpContext().Connection.ClientCertificate;
            lock (Coordinator.ConnectedAs)
            {
                Coordinator.ConnectedAs.Add(client?.GetNameInfo(X509NameType.SimpleName, false) ?? "(none)");
            }
            using var call = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, Coordinator._drop.Token);
            var sending = Task.Run(async () =>
            {
                await foreach (var message in Coordinator.ToSend.Reader.ReadAllAsync(call.Token))
                {
                    await responseStream.WriteAsync(message, call.Token);
                }
            });
            try
            {
                await foreach (var message in requestStream.ReadAllAsync(call.Token))
                {
                    await Coordinator.Received.Writer.WriteAsync(message, context.CancellationToken);
                }
            }
            catch (OperationCanceledException)
            {
            }
            await call.CancelAsync();
            try
            {
                await sending;
            }
            catch (OperationCanceledException)
            {
            }
        }
    }
}
