using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using CertFleet.Agent.Handlers;
using CertFleet.Protocol.V1;
using CertFleet.Testing;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace CertFleet.Agent.Tests.Gates;

/// <summary>
/// The built-in kube-apiserver gate (/livez trusted by --client-ca-file) and its endpoint check, against a stand-in
/// HTTPS server on 127.0.20.2 that serves the node's own apiserver certificate and key, as kube-apiserver would.
/// </summary>
public sealed class ApiServerGateTests(EcClusterPkiFixture pki) : IClassFixture<EcClusterPkiFixture>
{
    private const string Address = "127.0.20.2";

    [Fact]
    public async Task Restart_ApiServerServingTheFileOnDisk_LivezAndEndpointCheckPass()
    {
        var (root, port) = NodeWithApiServerOnLoopback();
        await using var server = await ServeAsync(root, port, livezStatus: 200);
        using var agent = new AgentUnderTest(root, restartCommand: "true", healthCommand: null, gateTimeout: TimeSpan.FromSeconds(3));
        var serial = Openssl.Serial(Path.Combine(root, "etc/kubernetes/pki/apiserver.crt"));

        var result = await agent.Get<RestartHandler>().HandleAsync(new RestartRequest { RolloutId = agent.InstalledFor("kube-apiserver.service"), StepId = "a1", Unit = "kube-apiserver.service" }, CancellationToken.None);

        Assert.True(result.Ok, $"{result.Message}\n{result.ProbeOutput}");
        Assert.Contains($"GET https://{Address}:{port}/livez: 200 ok", result.ProbeOutput);
        Assert.Contains($"kube-apiserver {Address}:{port}: serves serial {serial}", result.ProbeOutput, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Restart_ApiServerStillServingTheOldCertificate_GateFailsNamingBothSerials()
    {
        var (root, port) = NodeWithApiServerOnLoopback();
        var served = Openssl.Serial(Path.Combine(root, "etc/kubernetes/pki/apiserver.crt"));
        await using var server = await ServeAsync(root, port, livezStatus: 200);
        using var agent = new AgentUnderTest(root, restartCommand: "true", healthCommand: null, gateTimeout: TimeSpan.FromSeconds(2));
        var old = AgentUnderTest.LoadCertificate(Path.Combine(root, "etc/kubernetes/pki/apiserver.crt"));
        var install = agent.Get<InstallHandler>().Handle(new InstallRequest
        {
            StepId = "i1",
            Replacements = { new Replacement { OldFingerprint = old.Sha256Fingerprint, CertificateDer = ByteString.CopyFrom(AgentUnderTest.Renew(root, "apiserver.crt").Der) } },
        });
        Assert.True(install.Ok, install.Message);
        var onDisk = Openssl.Serial(Path.Combine(root, "etc/kubernetes/pki/apiserver.crt"));

        var result = await agent.Get<RestartHandler>().HandleAsync(new RestartRequest { RolloutId = agent.InstalledFor("kube-apiserver.service"), StepId = "a2", Unit = "kube-apiserver.service" }, CancellationToken.None);

        Assert.False(result.Ok);
        Assert.Matches($"(?i)kube-apiserver {Address}:{port}: serves serial {served}, but /etc/kubernetes/pki/apiserver.crt holds serial {onDisk}", result.ProbeOutput);
    }

    [Fact]
    public async Task Restart_LivezNotOk_GateTimesOutWithTheLastAnswer()
    {
        var (root, port) = NodeWithApiServerOnLoopback();
        await using var server = await ServeAsync(root, port, livezStatus: 500);
        using var agent = new AgentUnderTest(root, restartCommand: "true", healthCommand: null);

        var result = await agent.Get<RestartHandler>().HandleAsync(
            new RestartRequest { RolloutId = agent.InstalledFor("kube-apiserver.service"), StepId = "a3", Unit = "kube-apiserver.service", TimeoutSeconds = 2 }, CancellationToken.None);

        Assert.False(result.Ok);
        Assert.Contains($"kube-apiserver.service not healthy within 2 s; last probe: GET https://{Address}:{port}/livez: 500", result.ProbeOutput);
    }

    /// <summary>A copy of master-1 whose kube-apiserver unit advertises 127.0.20.2 and a free port.</summary>
    private (string Root, int Port) NodeWithApiServerOnLoopback()
    {
        var root = pki.CopyNode("master-1");
        int port;
        using (var probe = new TcpListener(IPAddress.Parse(Address), 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        var unit = Path.Combine(root, "etc/systemd/system/kube-apiserver.service");
        File.WriteAllText(unit, File.ReadAllText(unit)
            .Replace("--advertise-address=10.0.0.11", $"--advertise-address={Address}", StringComparison.Ordinal)
            .Replace("--secure-port=6443", $"--secure-port={port}", StringComparison.Ordinal));
        return (root, port);
    }

    private static async Task<WebApplication> ServeAsync(string root, int port, int livezStatus)
    {
        var pkiFolder = Path.Combine(root, "etc/kubernetes/pki");
        using var pem = X509Certificate2.CreateFromPemFile(Path.Combine(pkiFolder, "apiserver.crt"), Path.Combine(pkiFolder, "apiserver.key"));
        var certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pfx), null);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Parse(Address), port, listen => listen.UseHttps(certificate)));
        var app = builder.Build();
        app.MapGet("/livez", () => Results.Text("ok", statusCode: livezStatus));
        await app.StartAsync();
        return app;
    }
}
