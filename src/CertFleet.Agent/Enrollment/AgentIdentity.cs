using System.Security.Cryptography.X509Certificates;

namespace CertFleet.Agent.Enrollment;

/// <summary>The agent's credential: its certificate with key (CN = node name) and the fleet CA it trusts.</summary>
internal sealed record AgentIdentity(X509Certificate2 Certificate, X509Certificate2 FleetCa) : IDisposable
{
    public void Dispose()
    {
        Certificate.Dispose();
        FleetCa.Dispose();
    }
}
