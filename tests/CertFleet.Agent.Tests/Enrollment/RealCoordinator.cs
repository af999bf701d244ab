using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using CertFleet.Coordinator.Hosting;
using CertFleet.Pki.Authorities;
using CertFleet.Pki.Kubeconfigs;
using CertFleet.Protocol.V1;
using CertFleet.Testing;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace CertFleet.Agent.Tests.Enrollment;

/// <summary>The real coordinator in-process on a loopback address, on a clock the test shares with the agent.</summary>
internal sealed class RealCoordinator : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly GrpcChannel _admin;

    private RealCoordinator(WebApplication app, string stateDirectory, string listen)
    {
        _app = app;
        StateDirectory = stateDirectory;
        Url = new Uri($"https://{listen}");
        var path = Path.Combine(stateDirectory, "admin.conf");
        var config = Kubeconfig.Parse(File.ReadAllText(path), path);
        var user = config.Users.Single();
        FleetCa = X509Certificate2.CreateFromPem(System.Text.Encoding.ASCII.GetString(
            Kubeconfig.DecodeData(config.Clusters.Single().CertificateAuthorityData!, path)));
        var admin = X509Certificate2.CreateFromPem(
            System.Text.Encoding.ASCII.GetString(Kubeconfig.DecodeData(user.ClientCertificateData!, path)),
            System.Text.Encoding.ASCII.GetString(Kubeconfig.DecodeData(user.ClientKeyData!, path)));
        _admin = GrpcChannel.ForAddress(Url, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                SslOptions = new SslClientAuthenticationOptions
                {
                    ClientCertificates = [admin],
                    LocalCertificateSelectionCallback = (_, _, _, _, _) => admin,
                    RemoteCertificateValidationCallback = (_, _, _, _) => true, // the test's own coordinator
                },
            },
            DisposeHttpClient = true,
        });
        Admin = new AdminService.AdminServiceClient(_admin);
    }

    public Uri Url { get; }

    public string StateDirectory { get; }

    public X509Certificate2 FleetCa { get; }

    public AdminService.AdminServiceClient Admin { get; }

    public static async Task<RealCoordinator> StartAsync(string listen, TimeProvider time,
        IReadOnlyList<ClusterAuthorityFiles>? authorities = null, Action<IServiceCollection>? configure = null)
    {
        var state = ScratchDirectory.Create("real-coordinator");
        var app = CoordinatorHost.Build(new CoordinatorOptions { Listen = listen, StateDirectory = state, ClusterAuthorities = authorities ?? [] },
            services =>
            {
                services.AddSingleton(time);
                configure?.Invoke(services);
            });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await app.StartAsync(timeout.Token);
        return new RealCoordinator(app, state, listen);
    }

    public async Task<string> TokenAsync(string node) =>
        (await Admin.CreateTokenAsync(new CreateTokenRequest { Node = node }, deadline: DateTime.UtcNow.AddSeconds(20))).Token;

    public async Task<NodeStatus?> NodeAsync(string node) =>
        (await Admin.GetStatusAsync(new StatusRequest(), deadline: DateTime.UtcNow.AddSeconds(20))).Nodes.SingleOrDefault(n => n.Name == node);

    public async ValueTask DisposeAsync()
    {
        _admin.Dispose();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
        FleetCa.Dispose();
        ScratchDirectory.Delete(StateDirectory);
    }
}
