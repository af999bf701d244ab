using Grpc.Core;
using Grpc.Core.Interceptors;

namespace CertFleet.Coordinator.Group;

/// <summary>
/// What a standby answers: the reads an operator runs against any coordinator of the group (status, audit, the
/// rollouts), and Discover (the fleet CA, the same on every coordinator); every other call, an agent's enrollment and
/// stream or an admin's write, is refused with Unavailable and the active coordinator's URL in the trailer
/// <see cref="ActiveTrailer"/>, which agents and the CLI follow (they also try the next URL they were given).
/// One list here, so no call can be forgotten in a service: a new RPC is refused on a standby until it is added.
/// </summary>
internal sealed class StandbyInterceptor(CoordinatorLease lease) : Interceptor
{
    public const string ActiveTrailer = "certfleet-active-coordinator";

    private static readonly HashSet<string> ServedByStandby = new(StringComparer.Ordinal)
    {
        "/certfleet.v1.AdminService/GetStatus",
        "/certfleet.v1.AdminService/ListRollouts",
        "/certfleet.v1.AdminService/GetRollout",
        "/certfleet.v1.AdminService/WatchRollout",
        "/certfleet.v1.AdminService/Audit",
        "/certfleet.v1.AgentService/Discover",
    };

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        RefuseOnStandby(context);
        return continuation(request, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        RefuseOnStandby(context);
        return continuation(request, responseStream, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        RefuseOnStandby(context);
        return continuation(requestStream, responseStream, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        RefuseOnStandby(context);
        return continuation(requestStream, context);
    }

    private void RefuseOnStandby(ServerCallContext context)
    {
        if (lease.IsActive || ServedByStandby.Contains(context.Method))
        {
            return;
        }
        var active = lease.ActiveUrl;
        var trailers = new Metadata();
        if (active is not null)
        {
            trailers.Add(ActiveTrailer, active);
        }
        throw new RpcException(new Status(StatusCode.Unavailable, active is null
            ? $"certfleet-coordinator {lease.Url} is a standby of its coordinator group and no coordinator holds the lease "
                + "right now (one takes over within seconds); try again, or another coordinator of the group"
            : $"certfleet-coordinator {lease.Url} is a standby of its coordinator group; the active one is {active}"), trailers);
    }
}
