using System.Security.Cryptography.X509Certificates;
using System.Text;
using CertFleet.Pki.Kubeconfigs;
using CertFleet.Protocol.V1;
using Grpc.Net.Client;

namespace CertFleet.Bench.Fleet;

/// <summary>The admin API with the credentials in the admin.conf the coordinator wrote, as the CLI uses it.</summary>
internal sealed class AdminClient : IDisposable
{
    private readonly GrpcChannel _channel;
    private readonly X509Certificate2 _identity;

    public AdminClient(string adminConfPath)
    {
        var kubeconfig = Kubeconfig.Parse(File.ReadAllText(adminConfPath), adminConfPath);
        var cluster = kubeconfig.Clusters[0];
        var user = kubeconfig.Users[0];
        string Data(KubeconfigValue? value) => Encoding.UTF8.GetString(Kubeconfig.DecodeData(value!, adminConfPath));
        Server = new Uri(cluster.Server ?? throw new BenchException($"{adminConfPath}: no server"));
        FleetCa = X509Certificate2.CreateFromPem(Data(cluster.CertificateAuthorityData));
        _identity = X509Certificate2.CreateFromPem(Data(user.ClientCertificateData), Data(user.ClientKeyData));
        _channel = SimulatedAgent.Channel(Server, FleetCa, _identity);
        Admin = new AdminService.AdminServiceClient(_channel);
    }

    public Uri Server { get; }

    public X509Certificate2 FleetCa { get; }

    public AdminService.AdminServiceClient Admin { get; }

    public void Dispose()
    {
        _channel.Dispose();
        _identity.Dispose();
        FleetCa.Dispose();
    }
}
