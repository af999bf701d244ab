using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CertFleet.Protocol.V1;
using Google.Protobuf;

namespace CertFleet.Coordinator.Tests.Support;

/// <summary>What an agent does to enroll: a new EC key on the node, a CSR for it, the token.</summary>
public static class AgentIdentity
{
    public static EnrollRequest Request(string token, string node, ECDsa key, string csrSubject = "")
    {
        var csr = new CertificateRequest(csrSubject.Length == 0 ? $"CN={node}" : csrSubject, key, HashAlgorithmName.SHA256);
        return new EnrollRequest { Token = token, Node = node, CsrDer = ByteString.CopyFrom(csr.CreateSigningRequest()) };
    }

    /// <summary>Enrolls and returns the identity certificate with its key, ready for mTLS.</summary>
    public static async Task<X509Certificate2> EnrollAsync(AgentService.AgentServiceClient client, string token, string node)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var response = await client.EnrollAsync(Request(token, node, key), deadline: DateTime.UtcNow.AddSeconds(20));
        using var certificate = X509CertificateLoader.LoadCertificate(response.CertificateDer.ToByteArray());
        return certificate.CopyWithPrivateKey(key);
    }
}
