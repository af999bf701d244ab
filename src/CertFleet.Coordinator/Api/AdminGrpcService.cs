using CertFleet.Coordinator.Audit;
using CertFleet.Coordinator.Enrollment;
using CertFleet.Coordinator.Fleet;
using CertFleet.Coordinator.Identity;
using CertFleet.Coordinator.Rollouts;
using CertFleet.Coordinator.Signing;
using CertFleet.Protocol.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace CertFleet.Coordinator.Api;

/// <summary>The operator's API. Every call needs the admin credential; rollout calls are delegated to <see cref="IRolloutAdmin"/>.</summary>
internal sealed partial class AdminGrpcService(FleetAuthority authority, TokenStore tokens, IFleetInventory fleet, AuditLog audit,
    NodeRemoval removal, PlanPages plans, ILogger<AdminGrpcService> logger, IRolloutAdmin? rollouts = null, IssuerLabels? issuers = null,
    Group.CoordinatorMembers? members = null)
    : AdminService.AdminServiceBase
{
    private const int DefaultAuditPage = 1_000;
    private const int MaxAuditPage = 10_000;
    private const int DefaultStatusPage = 500;
    private const int MaxStatusPage = 5_000;
    private const int DefaultRolloutsPage = 20;
    private const int MaxRolloutsPage = 200;

    public override Task<CreateTokenResponse> CreateToken(CreateTokenRequest request, ServerCallContext context)
    {
        RequireAdmin(context);
        try
        {
            var token = tokens.Create(request.Node.Length == 0 ? null : request.Node, NodeRoles.ParseOrWorker(request.Role),
                request.TtlSeconds == 0 ? null : TimeSpan.FromSeconds(request.TtlSeconds));
            Log.TokenCreated(logger, token.Node ?? "any node", NodeRoles.Format(token.Role), token.ExpiresAt);
            audit.Append(new AuditRecord(AuditKinds.TokenCreated, "admin")
            {
                Node = token.Node ?? "", NotAfter = token.ExpiresAt, Detail = $"for {token.Node ?? "any node"} as {NodeRoles.Format(token.Role)}",
            });
            return Task.FromResult(new CreateTokenResponse
            {
                Token = token.Secret,
                ExpiresAt = Timestamp.FromDateTimeOffset(token.ExpiresAt),
                // a group's agents are given every coordinator that runs, this (the active) one first
                CoordinatorUrl = string.Join(",", [authority.CoordinatorUrl, .. members?.OthersRunning() ?? []]),
                CaHash = authority.CaHash,
            });
        }
        catch (ArgumentException e)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, e.Message));
        }
    }

    public override Task<RemoveNodeResponse> RemoveNode(RemoveNodeRequest request, ServerCallContext context)
    {
        RequireAdmin(context);
        if (request.Node.Length == 0)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "RemoveNode needs a node name; see `certfleet status` for the enrolled nodes"));
        }
        return Task.FromResult(new RemoveNodeResponse { Removed = removal.Remove(request.Node) });
    }

    public override Task<StatusResponse> GetStatus(StatusRequest request, ServerCallContext context)
    {
        RequireAdmin(context);
        if (request.PageToken.Length > 253)
        {
            throw AnswerPages.BadToken(request.PageToken);
        }
        // the token is the last node name of the page before: nodes enrolled or removed meanwhile shift nothing
        var page = fleet.NodesAfter(request.PageToken, AnswerPages.Size(request.PageSize, DefaultStatusPage, MaxStatusPage), AnswerPages.MaxPageBytes);
        var response = new StatusResponse();
        if (request.PageToken.Length == 0 && members is not null)
        {
            response.Coordinators.AddRange(members.List());
        }
        if (page.More)
        {
            response.NextPageToken = page.Nodes[^1].Name;
        }
        foreach (var node in page.Nodes)
        {
            var status = new NodeStatus { Name = node.Name, Role = NodeRoles.Format(node.Role), Connected = node.Connected };
            if (node.LastReport is { } reported)
            {
                status.LastReport = Timestamp.FromDateTimeOffset(reported);
            }
            if (node.Inventory is { } inventory)
            {
                foreach (var certificate in inventory.Certificates)
                {
                    var shown = certificate.Clone();
                    shown.IssuedBy = issuers?.Of(certificate.Der) ?? ""; // the coordinator's word, whatever the node sent
                    status.Certificates.Add(shown);
                }
            }
            status.Errors.AddRange(node.Errors());
            response.Nodes.Add(status);
        }
        return Task.FromResult(response);
    }

    public override Task<RolloutPlan> Plan(RolloutRequest request, ServerCallContext context) =>
        Rollouts(context, r => plans.PageAsync(request, whole => r.PlanAsync(whole, context.CancellationToken)));

    public override Task<Rollout> StartRollout(RolloutRequest request, ServerCallContext context)
    {
        // paging is the plan's; the rollout keeps the request it ran
        var start = request.Clone();
        start.PageSize = 0;
        start.PageToken = "";
        return Rollouts(context, r => r.StartAsync(start, automatic: false, context.CancellationToken));
    }

    public override Task<ListRolloutsResponse> ListRollouts(ListRolloutsRequest request, ServerCallContext context) =>
        Rollouts(context, async r => RolloutsPage(await r.ListAsync(context.CancellationToken).ConfigureAwait(false), request));

    public override Task<Rollout> GetRollout(RolloutId request, ServerCallContext context) =>
        Rollouts(context, r => r.GetAsync(request.Id, context.CancellationToken));

    public override Task<Rollout> ResumeRollout(RolloutId request, ServerCallContext context) =>
        Rollouts(context, r => r.ResumeAsync(request.Id, request.SkipNodes, context.CancellationToken));

    public override Task<Rollout> AbortRollout(RolloutId request, ServerCallContext context) =>
        Rollouts(context, r => r.AbortAsync(request.Id, context.CancellationToken));

    public override Task<Rollout> RollbackRollout(RollbackRolloutRequest request, ServerCallContext context) =>
        Rollouts(context, r => r.RollbackAsync(request.RolloutId, request.Node, context.CancellationToken));

    public override Task<VerifyFleetResponse> VerifyFleet(VerifyFleetRequest request, ServerCallContext context) =>
        Rollouts(context, r => r.VerifyFleetAsync(request, context.CancellationToken));

    public override Task<AuditResponse> Audit(AuditRequest request, ServerCallContext context)
    {
        RequireAdmin(context);
        var since = request.Since is { } from ? from.ToDateTimeOffset() : (DateTimeOffset?)null;
        var page = audit.ReadPage(request.Node, since, AnswerPages.Position(request.PageToken),
            AnswerPages.Size(request.PageSize, DefaultAuditPage, MaxAuditPage), AnswerPages.MaxPageBytes);
        var response = new AuditResponse { Events = { page.Events } };
        if (page.More)
        {
            response.NextPageToken = AnswerPages.Token(page.Events[^1].Sequence);
        }
        return Task.FromResult(response);
    }

    public override async Task WatchRollout(RolloutId request, IServerStreamWriter<Rollout> responseStream, ServerCallContext context)
    {
        var admin = RolloutAdmin(context);
        await RpcErrors.Map(async () =>
        {
            await foreach (var rollout in admin.WatchAsync(request.Id, context.CancellationToken).ConfigureAwait(false))
            {
                await responseStream.WriteAsync(LegacyRolloutText.Fill(rollout), context.CancellationToken).ConfigureAwait(false);
            }
            return true;
        }).ConfigureAwait(false);
    }

    /// <summary>The rollouts (newest first) after the one the token names, as many as fit a page.</summary>
    private static ListRolloutsResponse RolloutsPage(ListRolloutsResponse all, ListRolloutsRequest request)
    {
        var start = 0;
        if (request.PageToken.Length > 0)
        {
            var last = all.Rollouts.Select((r, i) => (r.Id, i)).FirstOrDefault(r => r.Id == request.PageToken);
            if (last.Id is null)
            {
                throw AnswerPages.BadToken(request.PageToken);
            }
            start = last.i + 1;
        }
        var size = AnswerPages.Size(request.PageSize, DefaultRolloutsPage, MaxRolloutsPage);
        var page = new ListRolloutsResponse();
        long bytes = 0;
        for (var i = start; i < all.Rollouts.Count; i++)
        {
            bytes += all.Rollouts[i].CalculateSize();
            if (page.Rollouts.Count == size || (page.Rollouts.Count > 0 && bytes > AnswerPages.MaxPageBytes))
            {
                page.NextPageToken = page.Rollouts[^1].Id;
                break;
            }
            page.Rollouts.Add(all.Rollouts[i]);
        }
        return page;
    }

    private Task<T> Rollouts<T>(ServerCallContext context, Func<IRolloutAdmin, Task<T>> call)
    {
        var admin = RolloutAdmin(context);
        return RpcErrors.Map(async () => LegacyRolloutText.Fill(await call(admin).ConfigureAwait(false)));
    }

    private IRolloutAdmin RolloutAdmin(ServerCallContext context)
    {
        RequireAdmin(context);
        return rollouts ?? throw new RpcException(new Status(StatusCode.Unimplemented, "this coordinator was built without rollouts"));
    }

    private void RequireAdmin(ServerCallContext context)
    {
        if (!authority.IsAdmin(CallerCertificate.Of(context)))
        {
            RpcErrors.PermissionDenied("this call needs the admin credential (the client certificate in the coordinator's admin.conf); use `certfleet --config admin.conf`");
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 400, Level = LogLevel.Information, Message = "Created an enrollment token for {Node} as {Role}, valid until {ExpiresAt:u}")]
        public static partial void TokenCreated(ILogger logger, string node, string role, DateTimeOffset expiresAt);
    }
}
