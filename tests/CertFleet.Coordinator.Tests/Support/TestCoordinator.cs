using System.Security.Cryptography.X509Certificates;
using CertFleet.Coordinator.Hosting;
using CertFleet.Coordinator.Identity;
using CertFleet.Pki.Authorities;
using CertFleet.Pki.Kubeconfigs;
using CertFleet.Protocol.V1;
using CertFleet.Testing;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace CertFleet.Coordinator.Tests.Support;

/// <summary>A real coordinator on a loopback address, started in-process, with clients made from its real credentials.</summary>
public sealed class TestCoordinator : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly bool _ownsStateDirectory;
    private readonly List<GrpcChannel> _channels = [];

    private TestCoordinator(WebApplication app, CoordinatorOptions options, bool ownsStateDirectory)
    {
        _app = app;
        Options = options;
        _ownsStateDirectory = ownsStateDirectory;
    }

    public CoordinatorOptions Options { get; }

    public string StateDirectory => Options.StateDirectory;

    public string Url => $"https://{Options.Listen}";

    public IServiceProvider Services => _app.Services;

    internal FleetAuthority Authority => Services.GetRequiredService<FleetAuthority>();

    public X509Certificate2 FleetCa => Authority.Certificate;

    public static async Task<TestCoordinator> StartAsync(string listen, string? stateDirectory = null,
        Action<IServiceCollection>? configure = null, IReadOnlyList<ClusterAuthorityFiles>? authorities = null, string? metricsListen = null,
        Func<CoordinatorOptions, CoordinatorOptions>? adjust = null)
    {
        var options = new CoordinatorOptions
        {
            Listen = listen,
            StateDirectory = stateDirectory ?? ScratchDirectory.Create("coordinator"),
            ClusterAuthorities = authorities ?? [],
            MetricsListen = metricsListen,
        };
        options = adjust?.Invoke(options) ?? options;
        var app = CoordinatorHost.Build(options, configure);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await app.StartAsync(timeout.Token);
        return new TestCoordinator(app, options, ownsStateDirectory: stateDirectory is null);
    }

    /// <summary>A channel with the admin credential read from admin.conf, as the CLI reads it.</summary>
    public GrpcChannel AdminChannel()
    {
        var path = Path.Combine(StateDirectory, "admin.conf");
        var config = Kubeconfig.Parse(File.ReadAllText(path), path);
        var user = config.Users.Single();
        var certificatePem = System.Text.Encoding.ASCII.GetString(Kubeconfig.DecodeData(user.ClientCertificateData!, path));
        var keyPem = System.Text.Encoding.ASCII.GetString(Kubeconfig.DecodeData(user.ClientKeyData!, path));
        return Channel(X509Certificate2.CreateFromPem(certificatePem, keyPem));
    }

    public AdminService.AdminServiceClient Admin() => new(AdminChannel());

    public AdminService.AdminServiceClient AdminWith(X509Certificate2? clientCertificate) => new(Channel(clientCertificate));

    public AgentService.AgentServiceClient Agent(X509Certificate2? clientCertificate = null) => new(Channel(clientCertificate));

    public GrpcChannel Channel(X509Certificate2? clientCertificate)
    {
        var channel = FleetChannels.Create(Url, FleetCa, clientCertificate);
        _channels.Add(channel);
        return channel;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var channel in _channels)
        {
            channel.Dispose();
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
        if (_ownsStateDirectory)
        {
            ScratchDirectory.Delete(StateDirectory);
        }
    }
}
