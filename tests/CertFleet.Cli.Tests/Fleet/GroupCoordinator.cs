using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CertFleet.Coordinator.Identity;
using CertFleet.Protocol.Trust;
using CertFleet.Protocol.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CertFleet.Cli.Tests.Fleet;

/// <summary>
/// A stand-in for one coordinator of a group, over real gRPC and mTLS with a server certificate of the group's fleet
/// CA (<see cref="Group"/>): it answers status (with the group's coordinators, itself marked answering) and rollout
/// lists, and token create while active; as a standby it refuses token create as the real one refuses a write
/// (Unavailable, the active one's URL in the certfleet-active-coordinator trailer). What the CLI does with a group
/// is under test; the coordinators' own election is the coordinator's tests'.
/// </summary>
internal sealed class GroupCoordinator : IAsyncDisposable
{
    private readonly WebApplication _app;

    private GroupCoordinator(WebApplication app) => _app = app;

    public Uri Url { get; private set; } = null!;

    /// <summary>Set: a standby naming this active coordinator (null inside: it names none).</summary>
    public Standby? StandbyOf { get; set; }

    /// <summary>The group's coordinators as this one lists them in status (its own entry gets answering = true).</summary>
    public List<CoordinatorMember> Members { get; set; } = [];

    /// <summary>Every call that reached it, by method name ("GetStatus", "CreateToken"...).</summary>
    public ConcurrentQueue<string> Calls { get; } = new();

    public static async Task<GroupCoordinator> StartAsync(Group group, string address)
    {
        var server = group.Server(address);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Parse(address), 0, listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            listen.UseHttps(new HttpsConnectionAdapterOptions
            {
                ServerCertificate = server,
                ClientCertificateMode = ClientCertificateMode.RequireCertificate,
                ClientCertificateValidation = (_, _, _) => true,
            });
        }));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton<Admin>();
        var app = builder.Build();
        var coordinator = new GroupCoordinator(app);
        app.Services.GetRequiredService<Admin>().Owner = coordinator;
        app.MapGrpcService<Admin>();
        await app.StartAsync();
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        coordinator.Url = new Uri(bound.Replace("http://", "https://", StringComparison.Ordinal));
        return coordinator;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    public sealed record Standby(Uri? Active);

    /// <summary>The fleet CA the coordinators of a group share, and the admin credential (admin.conf) for all of them.</summary>
    internal sealed class Group : IDisposable
    {
        private readonly ECDsa _caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        private readonly X509Certificate2 _ca;
        private readonly string _folder;

        public Group(string folder)
        {
            _folder = folder;
            var request = new CertificateRequest("CN=certfleet fleet CA", _caKey, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
            request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
            _ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        }

        /// <summary>Writes admin.conf (mode 0600) whose server is <paramref name="servers"/> as given, and returns its path.</summary>
        public string AdminConf(string servers)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("O=certfleet:admins, CN=certfleet-admin", key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
            using var admin = request.Create(_ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddMonths(1), RandomNumberGenerator.GetBytes(12));
            var path = Path.Combine(_folder, $"admin-{Guid.NewGuid():N}.conf");
            AdminConfig.Write(path, servers, _ca.ExportCertificatePem(), admin.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
            return path;
        }

        public X509Certificate2 Server(string address)
        {
            var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=certfleet-coordinator", key, HashAlgorithmName.SHA256);
            var names = new SubjectAlternativeNameBuilder();
            names.AddIpAddress(IPAddress.Parse(address));
            names.AddUri(new Uri(CoordinatorIdentity.ServerUri));
            request.CertificateExtensions.Add(names.Build());
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(CoordinatorIdentity.ServerAuthOid)], false));
            request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_ca, true, false));
            using var issued = request.Create(_ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddMonths(1), RandomNumberGenerator.GetBytes(12));
            // Kestrel wants a key it can export into its TLS context
            return X509CertificateLoader.LoadPkcs12(issued.CopyWithPrivateKey(key).Export(X509ContentType.Pfx), null);
        }

        public void Dispose()
        {
            _ca.Dispose();
            _caKey.Dispose();
        }
    }

    private sealed class Admin : AdminService.AdminServiceBase
    {
        public GroupCoordinator Owner { get; set; } = null!;

        public override Task<StatusResponse> GetStatus(StatusRequest request, ServerCallContext context)
        {
            Owner.Calls.Enqueue("GetStatus");
            var response = new StatusResponse
            {
                Nodes = { new NodeStatus { Name = "master-1", Role = "master", Connected = true, LastReport = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow) } },
            };
            foreach (var member in Owner.Members)
            {
                var listed = member.Clone();
                listed.Answering = CertFleet.Cli.Fleet.CoordinatorUrls.Same(new Uri(member.Url), Owner.Url);
                response.Coordinators.Add(listed);
            }
            return Task.FromResult(response);
        }

        public override async Task WatchRollout(RolloutId request, IServerStreamWriter<Rollout> responseStream, ServerCallContext context)
        {
            Owner.Calls.Enqueue("WatchRollout");
            await responseStream.WriteAsync(new Rollout { Id = request.Id, State = RolloutState.Running });
            await responseStream.WriteAsync(new Rollout { Id = request.Id, State = RolloutState.Completed });
        }

        public override Task<ListRolloutsResponse> ListRollouts(ListRolloutsRequest request, ServerCallContext context)
        {
            Owner.Calls.Enqueue("ListRollouts");
            return Task.FromResult(new ListRolloutsResponse());
        }

        public override Task<CreateTokenResponse> CreateToken(CreateTokenRequest request, ServerCallContext context)
        {
            Owner.Calls.Enqueue("CreateToken");
            if (Owner.StandbyOf is { } standby)
            {
                var trailers = new Metadata();
                if (standby.Active is not null)
                {
                    trailers.Add("certfleet-active-coordinator", standby.Active.ToString().TrimEnd('/'));
                }
                throw new RpcException(new Status(StatusCode.Unavailable, $"certfleet-coordinator {Owner.Url} is a standby of its coordinator group; "
                    + $"the active one is {standby.Active?.ToString() ?? "not known"}"), trailers);
            }
            return Task.FromResult(new CreateTokenResponse
            {
                Token = "abcdef.0123456789abcdef", CoordinatorUrl = Owner.Url.ToString().TrimEnd('/'), CaHash = "sha256:" + new string('0', 64),
            });
        }
    }
}
