using System.Security.Cryptography.X509Certificates;
using Grpc.Core;

namespace CertFleet.Coordinator.Api;

internal static class CallerCertificate
{
    /// <summary>The client certificate of the TLS connection carrying this call, or null (Enroll comes without one).</summary>
    public static X509Certificate2? Of(ServerCallContext context) =>
        context.GetHttpContext().Connection.ClientCertificate;
}
