using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CertFleet.Coordinator.Hosting;
using CertFleet.Coordinator.Tests.Support;
using CertFleet.Protocol.V1;
using Grpc.Core;

namespace CertFleet.Coordinator.Tests.Hostile.Transport;

/// <summary>
/// Hostile input at the transport, against a real coordinator on 127.0.46.4: each ends in a refusal, nothing is
/// stored or signed, and the coordinator keeps serving.
/// </summary>
public sealed class TransportHostileTests : IAsyncLifetime
{
    private const string Listen = "127.0.46.4:7443";
    private TestCoordinator _coordinator = null!;
    private X509Certificate2 _worker = null!;

    public async Task InitializeAsync()
    {
        _coordinator = await TestCoordinator.StartAsync(Listen);
        var token = await _coordinator.Admin().CreateTokenAsync(new CreateTokenRequest { Node = "worker-1" }, deadline: Deadline());
        _worker = await AgentIdentity.EnrollAsync(_coordinator.Agent(), token.Token, "worker-1");
    }

    public async Task DisposeAsync() => await _coordinator.DisposeAsync();

    [Fact]
    public async Task Connect_InventoryReportOverTheMessageLimit_ResourceExhaustedNothingSavedCoordinatorStaysUp()
    {
        var huge = new InventoryReport();
        huge.Errors.Add(new ReportedError { Path = "/etc/kubernetes/pki/x.crt", Message = new string('x', CoordinatorHost.MaxMessageBytes + 1) });
        var agent = await TestAgent.ConnectAsync(_coordinator.Agent(_worker), "worker-1", null, _ => null);

        // the write itself may fail first (the server resets the stream); the stream's status says why
        await Record.ExceptionAsync(() => agent.SendAsync(new AgentMessage { Inventory = huge }));
        var error = await Assert.ThrowsAsync<RpcException>(() => agent.Completion.WaitAsync(TimeSpan.FromSeconds(20)));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains("exceeds the maximum", error.Status.Detail, StringComparison.OrdinalIgnoreCase);
        await AssertStillServingWithoutAReportAsync();
    }

    [Fact]
    public async Task Enroll_MalformedProtobufBytes_RefusedAndNothingEnrolled()
    {
        var enroll = new Method<byte[], byte[]>(MethodType.Unary, "certfleet.v1.AgentService", "Enroll",
            Marshallers.Create(b => b, b => b), Marshallers.Create(b => b, b => b));
        // field 1 (token) says 200 bytes follow, 3 do; then a field with wire type 7, which does not exist
        byte[] garbage = [0x0A, 0xC8, 0x01, 0x61, 0x62, 0x63, 0x0F, 0xFF, 0xFF];

        var error = await Assert.ThrowsAsync<RpcException>(() => _coordinator.Channel(null).CreateCallInvoker()
            .AsyncUnaryCall(enroll, null, new CallOptions(deadline: Deadline()), garbage).ResponseAsync);

        Assert.NotEqual(StatusCode.OK, error.StatusCode);
        var status = await _coordinator.Admin().GetStatusAsync(new StatusRequest(), deadline: Deadline());
        Assert.Equal(["worker-1"], status.Nodes.Select(n => n.Name));
    }

    [Fact]
    public async Task Connect_AgentCertificateFromAnotherFleetCa_RefusedAndTheNodeNeverConnects()
    {
        using var foreign = ForeignIdentity("worker-1");

        var error = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            var agent = await TestAgent.ConnectAsync(_coordinator.Agent(foreign), "worker-1", new InventoryReport(), _ => null);
            await agent.Completion.WaitAsync(TimeSpan.FromSeconds(20));
        });

        // refused at the TLS handshake: the client certificate does not chain to this fleet CA
        Assert.True(error is IOException or HttpRequestException || (error is RpcException rpc && rpc.StatusCode != StatusCode.OK), error.ToString());
        await AssertStillServingWithoutAReportAsync();
    }

    [Fact]
    public async Task TlsPort_PlainHttp2WithoutTls_RefusedAndCoordinatorStaysUp()
    {
        using var http = new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(5) }) { Timeout = TimeSpan.FromSeconds(10) };
        using var request = new HttpRequestMessage(HttpMethod.Post, $"http://{Listen}/certfleet.v1.AgentService/Discover")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent([0, 0, 0, 0, 0]),
        };
        request.Content.Headers.ContentType = new("application/grpc");

        var error = await Record.ExceptionAsync(() => http.SendAsync(request));

        Assert.IsType<HttpRequestException>(error);
        // and the raw h2c preface gets no HTTP/2 answer: the TLS server reads it as a broken ClientHello
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Parse("127.0.46.4"), 7443);
        var stream = tcp.GetStream();
        await stream.WriteAsync("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray());
        var buffer = new byte[64];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var read = await ReadSomeAsync(stream, buffer, timeout.Token);
        Assert.False(read >= 9 && buffer[3] == 0x04, "the TLS port answered an HTTP/2 SETTINGS frame in clear text");
        await AssertStillServingWithoutAReportAsync();
    }

    private static async Task<int> ReadSomeAsync(NetworkStream stream, byte[] buffer, CancellationToken cancellationToken)
    {
        try
        {
            return await stream.ReadAsync(buffer, cancellationToken);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private async Task AssertStillServingWithoutAReportAsync()
    {
        var status = await _coordinator.Admin().GetStatusAsync(new StatusRequest(), deadline: Deadline());
        var node = Assert.Single(status.Nodes);
        Assert.Null(node.LastReport);
        Assert.Empty(node.Certificates);
    }

    private static X509Certificate2 ForeignIdentity(string node)
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=certfleet fleet CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        // one "now" for both: a leaf reading the clock a second later would outlive its CA (refused by Create)
        var now = DateTimeOffset.UtcNow;
        using var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={node}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        using var issued = request.Create(ca, now.AddMinutes(-5), now.AddDays(30), RandomNumberGenerator.GetBytes(16));
        return issued.CopyWithPrivateKey(key);
    }

    private static DateTime Deadline() => DateTime.UtcNow.AddSeconds(20);
}
