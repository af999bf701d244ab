using CertFleet.Protocol.V1;
using Grpc.Core;

namespace CertFleet.Cli.Fleet;

/// <summary>
/// The coordinator answers status, plan, rollout lists and the audit trail in pages (so a large fleet never exceeds a
/// message); these ask for every page and put them back together, so the commands print what they always printed.
/// A coordinator from before paging answers everything at once with no next page, which ends the loop at once.
/// </summary>
internal static class AdminPages
{
    public static Task<StatusResponse> GetWholeStatusAsync(this AdminService.AdminServiceClient admin, CancellationToken cancellation) =>
        CollectAsync(new StatusResponse(),
            async token => await admin.GetStatusAsync(new StatusRequest { PageToken = token }, cancellationToken: cancellation),
            (whole, page) =>
            {
                whole.Nodes.AddRange(page.Nodes);
                if (whole.Coordinators.Count == 0)
                {
                    whole.Coordinators.AddRange(page.Coordinators); // on the first page only
                }
            },
            page => page.NextPageToken);

    public static Task<AuditResponse> AuditAllAsync(this AdminService.AdminServiceClient admin, AuditRequest request, CancellationToken cancellation) =>
        CollectAsync(new AuditResponse(),
            async token =>
            {
                var page = request.Clone();
                page.PageToken = token;
                return await admin.AuditAsync(page, cancellationToken: cancellation);
            },
            (whole, page) => whole.Events.AddRange(page.Events), page => page.NextPageToken);

    public static Task<RolloutPlan> PlanWholeAsync(this AdminService.AdminServiceClient admin, RolloutRequest request, CancellationToken cancellation) =>
        CollectAsync(new RolloutPlan(),
            async token =>
            {
                var page = request.Clone();
                page.PageToken = token;
                return await admin.PlanAsync(page, cancellationToken: cancellation);
            },
            (whole, page) =>
            {
                whole.Certificates.AddRange(page.Certificates);
                whole.Refused.AddRange(page.Refused);
                whole.Steps.AddRange(page.Steps);
                whole.Warnings.AddRange(page.Warnings);
            },
            page => page.NextPageToken);

    public static Task<ListRolloutsResponse> ListAllRolloutsAsync(this AdminService.AdminServiceClient admin, CancellationToken cancellation) =>
        CollectAsync(new ListRolloutsResponse(),
            async token => await admin.ListRolloutsAsync(new ListRolloutsRequest { PageToken = token }, cancellationToken: cancellation),
            (whole, page) => whole.Rollouts.AddRange(page.Rollouts), page => page.NextPageToken);

    private static async Task<T> CollectAsync<T>(T whole, Func<string, Task<T>> ask, Action<T, T> add, Func<T, string> next)
    {
        var given = new HashSet<string>(StringComparer.Ordinal);
        var token = "";
        while (true)
        {
            var page = await ask(token).ConfigureAwait(false);
            add(whole, page);
            token = next(page);
            if (token.Length == 0)
            {
                return whole;
            }
            // a coordinator that hands out a token twice would keep this asking for ever
            if (!given.Add(token))
            {
                throw new RpcException(new Status(StatusCode.Internal,
                    $"the coordinator gave the page token '{token}' twice; restart certfleet-coordinator and try again"));
            }
        }
    }
}
