using System.Globalization;
using CertFleet.Coordinator.Fleet;
using CertFleet.Coordinator.Signing;
using CertFleet.Pki;
using CertFleet.Pki.Certificates;
using CertFleet.Pki.Signing;
using CertFleet.Protocol.V1;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Logging;

namespace CertFleet.Coordinator.Rollouts;

/// <summary>
/// Decides from the nodes' reports what a rollout renews, what it refuses and in which order it restarts. A
/// certificate is renewed when CertFleet owns it, its key is on the node, a coordinator CA issued it and it
/// is selected (--all, or expiring within the threshold); with --ca the coordinator's CA certificates are
/// renewed too and every copy of them on the nodes replaced.
/// </summary>
internal sealed partial class RolloutPlanner(
    IFleetInventory inventory,
    ClusterAuthorities authorities,
    SigningPolicy policy,
    RekeyPlanner rekeys,
    TimeProvider time,
    ILogger<RolloutPlanner> logger)
{
    public const string CoordinatorNode = "(coordinator)";

    private const int MaxConcurrentRefreshes = 16;

    /// <param name="refresh">ask every connected node for a fresh report first (a rollout does; the auto-renewal check does not)</param>
    public async Task<PlannedRollout> PlanAsync(RolloutRequest request, bool refresh, CancellationToken cancellationToken)
    {
        RolloutRequests.Validate(request);
        var warnings = new List<string>();
        var excluded = Excluded(request);
        var nodes = await CurrentNodesAsync(refresh, excluded, warnings, cancellationToken).ConfigureAwait(false);
        if (request.RekeyCa is not null)
        {
            var workers = nodes.Count(n => n.Role == NodeRole.Worker);
            return await rekeys.PlanAsync(request, nodes, warnings, request.BatchSize > 0 ? request.BatchSize : Math.Max(1, workers / 10),
                cancellationToken).ConfigureAwait(false);
        }
        var now = time.GetUtcNow();
        var expiringWithin = request.ExpiringWithin();
        var plan = new RolloutPlan();
        var targets = new List<RolloutTarget>();
        var unitsByNode = new Dictionary<string, IReadOnlyCollection<string>>(StringComparer.Ordinal);
        var leafNotAfter = now + request.LeafValidity();
        var issuers = new HashSet<string>(StringComparer.Ordinal);

        if (request.RenewAuthorities)
        {
            foreach (var authority in authorities.All)
            {
                plan.Certificates.Add(Planned(CoordinatorNode, "", authority.Certificate,
                    RenewalValidity.NotAfter(authority.Certificate, now, request.AuthorityValidity())));
            }
        }
        foreach (var node in nodes)
        {
            var units = new HashSet<string>(StringComparer.Ordinal);
            foreach (var occurrences in Distinct(node.Inventory!))
            {
                var first = occurrences[0];
                var path = DisplayPath(first);
                CertificateInfo certificate;
                try
                {
                    certificate = CertificateInfo.Parse(first.Der.Span, $"{node.Name}:{path}");
                }
                catch (PkiException e)
                {
                    plan.Refused.Add(new RefusedCertificate { Node = node.Name, Path = path, Subject = "?", Reason = e.Message });
                    continue;
                }
                if (certificate.IsCa && first.Owner == CertificateOwner.Certfleet)
                {
                    // CA certificates change only with --ca, and only the coordinator's own (same subject and key)
                    if (request.RenewAuthorities && authorities.SameAuthorityAs(certificate) is { } authority)
                    {
                        // the node's copy is replaced by the coordinator's renewal of its own CA certificate
                        plan.Certificates.Add(Planned(node.Name, path, certificate,
                            RenewalValidity.NotAfter(authority.Certificate, now, request.AuthorityValidity())));
                        targets.Add(new RolloutTarget(node.Name, certificate.Sha256Fingerprint));
                        units.UnionWith(occurrences.SelectMany(o => o.UsedBy));
                    }
                    continue;
                }
                // NotAfter - now, never now + within: --expiring-within may be as long as a TimeSpan, past year 9999
                if (expiringWithin is { } within && certificate.NotAfter - now > within)
                {
                    continue;
                }
                if (first.Owner == CertificateOwner.KubeletSelfSigned && Keyed(occurrences).KeyState == KeyState.Matches)
                {
                    // no CA signs it: the agent renews the kubelet's own pair with its own key, the coordinator signs nothing
                    var own = Planned(node.Name, path, certificate, RenewalValidity.NotAfter(certificate, now, request.LeafValidity()));
                    own.SelfSignedOnNode = true;
                    plan.Certificates.Add(own);
                    targets.Add(new RolloutTarget(node.Name, certificate.Sha256Fingerprint));
                    units.UnionWith(occurrences.SelectMany(o => o.UsedBy));
                    continue;
                }
                if (policy.RefusalOf(node, Keyed(occurrences), certificate) is { } reason)
                {
                    plan.Refused.Add(new RefusedCertificate { Node = node.Name, Path = path, Subject = certificate.Subject, Reason = reason });
                    continue;
                }
                var planned = Planned(node.Name, path, certificate, RenewalValidity.NotAfter(certificate, now, request.LeafValidity()));
                planned.KubeconfigUser = first.KubeconfigUser;
                issuers.Add(authorities.IssuerOf(certificate)!.Certificate.Sha256Fingerprint);
                plan.Certificates.Add(planned);
                targets.Add(new RolloutTarget(node.Name, certificate.Sha256Fingerprint));
                units.UnionWith(occurrences.SelectMany(o => o.UsedBy));
            }
            if (targets.Any(t => t.Node == node.Name))
            {
                unitsByNode[node.Name] = units;
            }
        }
        if (!request.RenewAuthorities)
        {
            warnings.AddRange(AuthorityWarnings(issuers, leafNotAfter, now));
        }
        var workerCount = nodes.Count(n => n.Role == NodeRole.Worker);
        var batchSize = request.BatchSize > 0 ? request.BatchSize : Math.Max(1, workerCount / 10);
        plan.Steps.AddRange(RolloutStepOrder.Steps(nodes, unitsByNode, request.RenewAuthorities && authorities.All.Count > 0, batchSize));
        plan.Warnings.AddRange(warnings);
        Log.Planned(logger, plan.Certificates.Count, targets.Select(t => t.Node).Distinct().Count(), plan.Refused.Count, plan.Steps.Count);
        return new PlannedRollout(request.Clone(), plan, targets);
    }

    /// <summary>The nodes the operator left out (--exclude-node), each one an enrolled node: a typo must not renew the node it meant to spare.</summary>
    private HashSet<string> Excluded(RolloutRequest request)
    {
        var unknown = request.ExcludeNodes.Distinct(StringComparer.Ordinal).Where(n => inventory.Find(n) is null).ToList();
        if (unknown.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", unknown.Select(n =>
                $"--exclude-node {n}: no node named {n} is enrolled (`certfleet status` lists the nodes); nothing was planned")));
        }
        return request.ExcludeNodes.ToHashSet(StringComparer.Ordinal);
    }

    private async Task<List<NodeRecord>> CurrentNodesAsync(bool refresh, HashSet<string> excluded, List<string> warnings, CancellationToken cancellationToken)
    {
        var all = inventory.Nodes();
        foreach (var node in all.Where(n => excluded.Contains(n.Name)))
        {
            warnings.Add($"{node.Name} is excluded (--exclude-node): nothing is planned, asked or installed there");
        }
        // an excluded node is not even asked for a report: leaving it alone is the point
        var nodes = all.Where(n => !excluded.Contains(n.Name)).ToList();
        if (refresh)
        {
            var refreshed = new Dictionary<string, NodeRecord>(StringComparer.Ordinal);
            await Parallel.ForEachAsync(nodes.Where(n => n.Connected),
                new ParallelOptions { MaxDegreeOfParallelism = MaxConcurrentRefreshes, CancellationToken = cancellationToken },
                async (node, token) =>
                {
                    try
                    {
                        var record = await inventory.RefreshAsync(node.Name, token).ConfigureAwait(false);
                        lock (refreshed)
                        {
                            refreshed[node.Name] = record;
                        }
                    }
                    catch (AgentUnavailableException e)
                    {
                        lock (warnings)
                        {
                            warnings.Add($"{node.Name} did not send a fresh inventory ({e.Message}); planned from its last report");
                        }
                    }
                }).ConfigureAwait(false);
            nodes = nodes.Select(n => refreshed.GetValueOrDefault(n.Name) ?? n).ToList();
        }
        foreach (var node in nodes.Where(n => !n.Connected))
        {
            warnings.Add($"{node.Name} is not connected; nothing is planned for it until its agent is back");
        }
        foreach (var node in nodes.Where(n => n.Connected && n.Inventory is null))
        {
            warnings.Add($"{node.Name} has not reported its certificates yet; nothing is planned for it");
        }
        return nodes.Where(n => n.Connected && n.Inventory is not null)
            .OrderBy(n => n.Role == NodeRole.Master ? 0 : 1)
            .ThenBy(n => n.Name, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>
    /// Each distinct certificate once. A file names it better than a kubeconfig holding a copy (for a CA, its own
    /// file is where the node found it as issuer); the policy judges the occurrence whose key was found.
    /// </summary>
    internal static IEnumerable<List<ReportedCertificate>> Distinct(InventoryReport report) =>
        report.Certificates
            .GroupBy(c => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(c.Der.Span)), StringComparer.Ordinal)
            .Select(g => g.OrderBy(c => c.Owner == CertificateOwner.KubeletRotationHistory ? 1 : 0)
                .ThenBy(c => c.Path == c.IssuerPath ? 0 : 1)
                .ThenBy(c => string.IsNullOrEmpty(c.KubeconfigUser) ? 0 : 1)
                .ThenBy(c => c.Path, StringComparer.Ordinal)
                .ToList());

    internal static ReportedCertificate Keyed(List<ReportedCertificate> occurrences) =>
        occurrences.FirstOrDefault(o => o.KeyState == KeyState.Matches) ?? occurrences[0];

    internal static string DisplayPath(ReportedCertificate reported) =>
        string.IsNullOrEmpty(reported.KubeconfigUser) ? reported.Path : $"{reported.Path} (user {reported.KubeconfigUser})";

    private static PlannedCertificate Planned(string node, string path, CertificateInfo certificate, DateTimeOffset newNotAfter) => new()
    {
        Node = node,
        Path = path,
        Subject = certificate.Subject,
        NotAfter = Timestamp.FromDateTimeOffset(certificate.NotAfter),
        NewNotAfter = Timestamp.FromDateTimeOffset(newNotAfter),
        IsAuthority = certificate.IsCa,
    };

    /// <summary>A CA that expires before the leaves it signs leaves them useless then: say so, and point to --ca.</summary>
    private IEnumerable<string> AuthorityWarnings(HashSet<string> issuers, DateTimeOffset leafNotAfter, DateTimeOffset now)
    {
        foreach (var authority in authorities.All.Select(a => a.Certificate)
            .Where(c => issuers.Contains(c.Sha256Fingerprint) && c.NotAfter < leafNotAfter))
        {
            var when = authority.NotAfter <= now ? "expired on" : "expires on";
            yield return string.Create(CultureInfo.InvariantCulture,
                $"CA {authority.Subject} {when} {authority.NotAfter:yyyy-MM-dd}, before the renewed certificates ({leafNotAfter:yyyy-MM-dd}); "
                + $"they stay usable only with a renewed CA certificate: renew with --ca");
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3001, Level = LogLevel.Debug, Message = "Planned a rollout: {Certificates} certificates on {Nodes} nodes, {Refused} refused, {Steps} steps")]
        public static partial void Planned(ILogger logger, int certificates, int nodes, int refused, int steps);
    }
}
