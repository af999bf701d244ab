using System.Net;
using System.Security.Cryptography.X509Certificates;
using CertFleet.Coordinator.Audit;
using CertFleet.Coordinator.Fleet;
using CertFleet.Coordinator.Identity;
using CertFleet.Protocol.V1;

namespace CertFleet.Coordinator.Enrollment;

/// <summary>
/// Turns a token (or an agent's still-valid identity) and a CSR into an enrolled node with an identity certificate.
/// Enroll is open to anybody, so the order is cheapest first: the peer's failure budget, the fields' bounds, the
/// token (or identity), and only then the CSR; the token's use, the name's check and the node's row are one
/// transaction, so one name is enrolled by one token.
/// </summary>
internal sealed partial class EnrollmentService(TokenStore tokens, NodeStore nodes, FleetAuthority authority,
    AuditLog audit, EnrollmentThrottle throttle, ILogger<EnrollmentService> logger)
{
    // an EC or RSA-4096 CSR is well under 2 KiB; a real token is 43 characters
    private const int MaxCsrBytes = 16 * 1024;
    private const int MaxTokenLength = 128;

    /// <summary><see cref="EnrollChecked"/>, with the enrollment or its refusal in the audit trail (never the token).</summary>
    public EnrollResponse Enroll(EnrollRequest request, X509Certificate2? clientCertificate, IPAddress? peer = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!throttle.MayTry(peer) && !tokens.IsRedeemable(request.Token))
        {
            // nothing worked on but one lookup, nothing recorded: the first refusals of this burst are in the
            // trail already; a real token still gets through, so an agent behind a noisy address (NAT) enrolls
            throw new EnrollmentThrottledException($"too many failed enrollments from {peer}; try again in "
                + $"{Math.Ceiling(throttle.RetryAfter(peer).TotalSeconds):0} s with a valid token (`certfleet token create`)");
        }
        var how = request.Token.Length == 0 ? "identity renewal" : "token";
        // only a name that passed the rules goes into the trail; another is quoted, bounded, in the reason
        var node = NodeNames.Problem(request.Node) is null ? request.Node : "";
        try
        {
            var response = EnrollChecked(request, clientCertificate);
            using var issued = X509CertificateLoader.LoadCertificate(response.CertificateDer.ToByteArray());
            audit.Append(new AuditRecord(AuditKinds.Enrolled, $"agent:{node}")
            {
                Node = node,
                Serial = issued.SerialNumber,
                NotAfter = issued.NotAfter.ToUniversalTime(),
                Detail = $"as {response.Role} ({how})",
            });
            return response;
        }
        catch (Exception e) when (e is EnrollmentRefusedException or ArgumentException)
        {
            throttle.Failed(peer);
            audit.Append(new AuditRecord(AuditKinds.EnrollmentRefused, node.Length == 0 ? "agent" : $"agent:{node}")
            {
                Node = node, Reason = e.Message, Detail = peer is null ? how : $"{how} from {peer}",
            });
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
        if (request.Token.Length > MaxTokenLength || request.Token.Any(c => !char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_' or '.')))
        {
            throw new EnrollmentRefusedException("the token is not known to this coordinator (not a token's form); copy it again from `certfleet token create`");
        }
        if (request.CsrDer.Length > MaxCsrBytes)
        {
            throw new ArgumentException($"the enrollment CSR of node {request.Node} is {request.CsrDer.Length} bytes, more than any key's request ({MaxCsrBytes}); send the agent's CSR");
        }
        byte[] identity;
        NodeRole role;
        if (request.Token.Length == 0)
        {
            (identity, role) = Renew(request, clientCertificate);
        }
        else
        {
            (identity, role) = tokens.Redeem(request.Token, request.Node, (connection, tokenRole, boundToNode) =>
            {
                if (!boundToNode && NodeStore.Exists(connection, request.Node))
                {
                    // otherwise any unbound token could take over an enrolled node's identity (and change its role)
                    throw new EnrollmentRefusedException($"node {request.Node} is already enrolled; enrolling it again needs a token made for it: `certfleet token create --node {request.Node}`");
                }
                if (!boundToNode && authority.IsServerName(request.Node))
                {
                    // a node named like the coordinator's host must be the operator's choice, not the first comer's
                    throw new EnrollmentRefusedException($"'{request.Node}' is a name of this coordinator (its certificate names it); "
                        + $"if the node really is called that, make a token for it: `certfleet token create --node {request.Node}`");
                }
                var issued = authority.IssueAgentIdentity(request.Node, request.CsrDer.ToByteArray());
                nodes.Enroll(connection, request.Node, tokenRole, SerialOf(issued), null);
                return (issued, tokenRole);
            });
        }
        Log.Enrolled(logger, request.Node, NodeRoles.Format(role), request.Token.Length == 0 ? "identity renewal" : "token");
        return new EnrollResponse
        {
            CertificateDer = Google.Protobuf.ByteString.CopyFrom(identity),
            FleetCaDer = Google.Protobuf.ByteString.CopyFrom(authority.Certificate.RawData),
            Role = NodeRoles.Format(role),
        };
    }

    private (byte[] Identity, NodeRole Role) Renew(EnrollRequest request, X509Certificate2? clientCertificate)
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
        if (!throttle.TryRenewal(request.Node))
        {
            // each renewal is a signature and an fsynced row: a node (or a thief of its key) cannot loop on it
            throw new EnrollmentRefusedException($"node {request.Node} renewed its identity {EnrollmentThrottle.RenewalBurst} times lately; "
                + $"the next renewal is allowed within {EnrollmentThrottle.RenewalRefill.TotalMinutes:0} minutes (the agent retries hourly)");
        }
        var identity = authority.IssueAgentIdentity(request.Node, request.CsrDer.ToByteArray());
        // a retry from the replaced identity keeps it as the one that may retry; the lost one is dead
        var previous = current.IsCurrentIdentity(clientCertificate.SerialNumber) ? current.IdentitySerial : current.PreviousSerial;
        nodes.Enroll(request.Node, current.Role, SerialOf(identity), previous);
        return (identity, current.Role);
    }

    private static string SerialOf(byte[] certificate)
    {
        using var issued = X509CertificateLoader.LoadCertificate(certificate);
        return issued.SerialNumber;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 200, Level = LogLevel.Information, Message = "Enrolled node {Node} as {Role} ({How})")]
        public static partial void Enrolled(ILogger logger, string node, string role, string how);
    }
}
