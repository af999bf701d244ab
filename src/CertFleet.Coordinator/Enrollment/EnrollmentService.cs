using System.Security.Cryptography.X509Certificates;
using CertFleet.Coordinator.Audit;
using CertFleet.Coordinator.Fleet;
using CertFleet.Coordinator.Identity;
using CertFleet.Protocol.V1;

namespace CertFleet.Coordinator.Enrollment;

/// <summary>Turns a token (or an agent's still-valid identity) and a CSR into an enrolled node with an identity certificate.</summary>
internal sealed partial class EnrollmentService(TokenStore tokens, NodeStore nodes, FleetAuthority authority,
    AuditLog audit, ILogger<EnrollmentService> logger)
{
    /// <summary><see cref="EnrollChecked"/>, with the enrollment or its refusal in the audit trail (never the token).</summary>
    public EnrollResponse Enroll(EnrollRequest request, X509Certificate2? clientCertificate)
    {
        ArgumentNullException.ThrowIfNull(request);
        var how = request.Token.Length == 0 ? "identity renewal" : "token";
        try
        {
            var response = EnrollChecked(request, clientCertificate);
            using var issued = X509CertificateLoader.LoadCertificate(response.CertificateDer.ToByteArray());
            audit.Append(new AuditRecord(AuditKinds.Enrolled, $"agent:{request.Node}")
            {
                Node = request.Node,
                Serial = issued.SerialNumber,
                NotAfter = issued.NotAfter.ToUniversalTime(),
                Detail = $"as {response.Role} ({how})",
            });
            return response;
        }
        catch (Exception e) when (e is EnrollmentRefusedException or ArgumentException)
        {
            audit.Append(new AuditRecord(AuditKinds.EnrollmentRefused, $"agent:{request.Node}") { Node = request.Node, Reason = e.Message, Detail = how });
            throw;
        }
    }

    /// <summary>
    /// Enrolls with a token; with no token, an agent presenting its current identity for the same node gets a fresh
    /// one (its identity lasts 30 days and the wire contract has no separate renewal call).
    /// </summary>
    private EnrollResponse EnrollChecked(EnrollRequest request, X509Certificate2? clientCertificate)
    {
        if (NodeNames.Problem(request.Node) is { } problem)
        {
            throw new ArgumentException(problem);
        }
        // the CSR is checked before the token is used up, so a bad CSR does not cost the operator a token
        var identity = authority.IssueAgentIdentity(request.Node, request.CsrDer.ToByteArray());
        NodeRole role;
        string? previous = null;
        if (request.Token.Length == 0)
        {
            var current = nodes.Find(request.Node);
            if (authority.NodeOf(clientCertificate) != request.Node || current is null)
            {
                throw new EnrollmentRefusedException("no token given; enroll with --token T --ca-hash sha256:HEX (make a token with `certfleet token create`)");
            }
            if (!current.MayRenew(clientCertificate!.SerialNumber))
            {
                // an identity the node held before it was enrolled again (a copy left on an old disk, a stolen key)
                throw new EnrollmentRefusedException($"the identity certificate (serial {clientCertificate.SerialNumber}) is no longer node {request.Node}'s: "
                    + "the node was enrolled again since; enroll with a new token (`certfleet token create --node " + request.Node + "`)");
            }
            role = current.Role;
            // a retry from the replaced identity keeps it as the one that may retry; the lost one is dead
            previous = current.IsCurrentIdentity(clientCertificate.SerialNumber) ? current.IdentitySerial : current.PreviousSerial;
        }
        else
        {
            role = tokens.Redeem(request.Token, request.Node, n => nodes.Find(n) is not null);
        }
        using (var issued = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(identity))
        {
            nodes.Enroll(request.Node, role, issued.SerialNumber, previous);
        }
        Log.Enrolled(logger, request.Node, NodeRoles.Format(role), request.Token.Length == 0 ? "identity renewal" : "token");
        return new EnrollResponse
        {
            CertificateDer = Google.Protobuf.ByteString.CopyFrom(identity),
            FleetCaDer = Google.Protobuf.ByteString.CopyFrom(authority.Certificate.RawData),
            Role = NodeRoles.Format(role),
        };
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 200, Level = LogLevel.Information, Message = "Enrolled node {Node} as {Role} ({How})")]
        public static partial void Enrolled(ILogger logger, string node, string role, string how);
    }
}
