namespace CertFleet.Agent.Gates;

/// <summary>A TLS endpoint a unit serves and the file (node path) whose certificate it should present.</summary>
internal sealed record ServedEndpoint(string Host, int Port, string CertificatePath, string Role)
{
    public override string ToString() => $"{Role} {Host}:{Port}";
}
