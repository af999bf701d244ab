using CertFleet.Coordinator.Enrollment;
using CertFleet.Coordinator.Fleet;
using CertFleet.Coordinator.Identity;
using CertFleet.Protocol.V1;
using Grpc.Core;

namespace CertFleet.Coordinator.Api;

/// <summary>The agent channel: Enroll (token, no client certificate) and Connect (mTLS with the agent's identity).</summary>
internal sealed class AgentGrpcService(EnrollmentService enrollment, AgentSessions sessions, FleetAuthority authority,
    NodeStore nodes) : AgentService.AgentServiceBase
{
    public override Task<DiscoverResponse> Discover(DiscoverRequest request, ServerCallContext context) =>
        Task.FromResult(new DiscoverResponse { FleetCaDer = Google.Protobuf.ByteString.CopyFrom(authority.Certificate.RawData) });

    public override Task<EnrollResponse> Enroll(EnrollRequest request, ServerCallContext context)
    {
        try
        {
            return Task.FromResult(enrollment.Enroll(request, CallerCertificate.Of(context), context.GetHttpContext().Connection.RemoteIpAddress));
        }
        catch (EnrollmentThrottledException e)
        {
            throw new RpcException(new Status(StatusCode.ResourceExhausted, "enrollment refused: " + e.Message));
        }
        catch (EnrollmentRefusedException e)
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied, "enrollment refused: " + e.Message));
        }
        catch (ArgumentException e)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, e.Message));
        }
    }

    public override Task Connect(IAsyncStreamReader<AgentMessage> requestStream, IServerStreamWriter<CoordinatorMessage> responseStream,
        ServerCallContext context)
    {
        var caller = CallerCertificate.Of(context);
        var node = authority.NodeOf(caller);
        if (node is null)
        {
            RpcErrors.PermissionDenied("Connect needs the agent's identity certificate from this coordinator; enroll the agent first (--token T --ca-hash H)");
        }
        var stored = nodes.Find(node);
        if (stored is null)
        {
            RpcErrors.PermissionDenied($"node {node} is not enrolled here (removed?); enroll it again with a new token");
        }
        if (!stored.IsCurrentIdentity(caller!.SerialNumber))
        {
            RpcErrors.PermissionDenied($"this identity certificate (serial {caller.SerialNumber}) was replaced when node {node} enrolled again; "
                + "only the newest identity is accepted: remove the agent's state dir and enroll with a new token");
        }
        if (stored.PreviousSerial is not null)
        {
            nodes.ConfirmIdentity(node);
        }
        return sessions.ServeAsync(node, requestStream, responseStream, context.CancellationToken);
    }
}
