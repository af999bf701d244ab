using System.Security.Cryptography.X509Certificates;
using CertFleet.Protocol.V1;

namespace CertFleet.Cli.Fleet;

/// <summary>
/// The admin API of the coordinator, or of a coordinator group, as admin.conf names it: one
/// <see cref="CoordinatorEndpoint"/> per URL, and every call made through <see cref="CoordinatorGroupInvoker"/>, which
/// moves past an unreachable coordinator or a standby's refusal to the next.
/// </summary>
internal sealed class CoordinatorConnection : IDisposable
{
    private readonly IReadOnlyList<CoordinatorEndpoint> _endpoints;
    private readonly X509Certificate2 _clientCertificate;
    private readonly X509Certificate2 _fleetCa;

    public CoordinatorConnection(AdminConfigFile config)
    {
        _fleetCa = X509Certificate2.CreateFromPem(config.CaPem);
        _clientCertificate = X509Certificate2.CreateFromPem(config.CertificatePem, config.KeyPem);
        _endpoints = [.. config.Servers.Select(server => new CoordinatorEndpoint(server, _fleetCa, _clientCertificate))];
        Admin = new AdminService.AdminServiceClient(new CoordinatorGroupInvoker(_endpoints));
    }

    public AdminService.AdminServiceClient Admin { get; }

    /// <summary>
    /// With one coordinator: why its server was not taken for the coordinator (so nothing was sent to it), or null.
    /// A group's rejections are in the <see cref="CoordinatorGroupUnavailableException"/> that names every coordinator.
    /// </summary>
    public string? Rejection => _endpoints.Count == 1 ? _endpoints[0].Rejection : null;

    public void Dispose()
    {
        foreach (var endpoint in _endpoints)
        {
            endpoint.Dispose();
        }
        _clientCertificate.Dispose();
        _fleetCa.Dispose();
    }
}
