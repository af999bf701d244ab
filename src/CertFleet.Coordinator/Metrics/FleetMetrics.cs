using CertFleet.Coordinator.Audit;
using CertFleet.Coordinator.Fleet;
using CertFleet.Coordinator.Rollouts;
using CertFleet.Pki;
using CertFleet.Pki.Certificates;
using CertFleet.Protocol.V1;
using System.Security.Cryptography;
using Google.Protobuf;
using Prometheus;

namespace CertFleet.Coordinator.Metrics;

/// <summary>
/// What --metrics-listen serves at /metrics: every certificate of every node's last report under
/// x509-certificate-exporter's names (see <see cref="ExporterLabels"/>), and certfleet_* gauges of the fleet and its
/// rollouts. The registry is this coordinator's own (tests run several coordinators in one process) and is filled from
/// the persisted fleet state just before each scrape, so a series of a certificate that is gone (renewed: new serial;
/// node removed) disappears at the next scrape.
/// </summary>
internal sealed class FleetMetrics
{
    private readonly IFleetInventory _fleet;
    private readonly RolloutStore _rollouts;
    private readonly AuditLog _audit;
    private readonly TimeProvider _time;
    private readonly Lock _refreshing = new();

    // a scrape sees the same certificates as the last one nearly always: parse each DER once, not at every scrape
    private readonly SourceErrorCounts _sourceErrorCounts = new();
    private Dictionary<ByteString, ParsedCertificate?> _parsed = [];

    private readonly Gauge _notAfter;
    private readonly Gauge _notBefore;
    private readonly Gauge _expired;
    private readonly Gauge _readErrors;
    private readonly Gauge _sourceUp;
    private readonly Gauge _sourceBundles;
    private readonly Counter _sourceErrors;
    private readonly Gauge _nodes;
    private readonly Gauge _agentsConnected;
    private readonly Gauge _coordinatorActive;
    private readonly Group.CoordinatorLease? _lease;
    private readonly Gauge _nodeConnected;
    private readonly Gauge _reportAge;
    private readonly Gauge _rolloutsByState;
    private readonly Gauge _stepsByState;
    private readonly Counter _signingRefusals;

    /// <param name="lease">the group's lease, for certfleet_coordinator_active (null: a coordinator alone, always active)</param>
    public FleetMetrics(IFleetInventory fleet, RolloutStore rollouts, AuditLog audit, TimeProvider time, Group.CoordinatorLease? lease = null)
    {
        _lease = lease;
        _fleet = fleet;
        _rollouts = rollouts;
        _audit = audit;
        _time = time;
        Registry = Prometheus.Metrics.NewCustomRegistry();
        var factory = Prometheus.Metrics.WithCustomRegistry(Registry);
        // help texts of the x509_* series: the exporter's own (pkg/registry/collector.go), so both read the same
        _notAfter = factory.CreateGauge("x509_cert_not_after", "Unix timestamp of the certificate's NotAfter.", ExporterLabels.Names);
        _notBefore = factory.CreateGauge("x509_cert_not_before", "Unix timestamp of the certificate's NotBefore.", ExporterLabels.Names);
        _expired = factory.CreateGauge("x509_cert_expired", "1 if the certificate is expired, 0 otherwise.", ExporterLabels.Names);
        // v3's gauge (internal/collector.go), which the chart's X509ExporterReadErrors rule watches with delta()
        _readErrors = factory.CreateGauge("x509_read_errors",
            "Files the nodes' last reports could not read, plus reported certificates that do not parse.");
        // v4's per-source series (pkg/registry/collector.go), one source per node: its agent's scan of the node's files
        _sourceUp = factory.CreateGauge("x509_source_up",
            "1 while the node's agent is connected and its last report was accepted, 0 otherwise.", SourceLabels.Names);
        _sourceBundles = factory.CreateGauge("x509_source_bundles", "Certificate files in the node's last report.", SourceLabels.Names);
        _sourceErrors = factory.CreateCounter("x509_source_errors_total",
            "Errors in the node's reports since this coordinator started: files the agent could not read or parse, "
            + "certificates the coordinator refused, reports refused whole.", SourceLabels.ErrorNames);
        _nodes = factory.CreateGauge("certfleet_nodes", "Enrolled nodes.");
        _agentsConnected = factory.CreateGauge("certfleet_agents_connected", "Nodes whose agent is connected now.");
        _coordinatorActive = factory.CreateGauge("certfleet_coordinator_active",
            "1 if this coordinator holds its group's lease (acts on the fleet), 0 if it is a standby.");
        _nodeConnected = factory.CreateGauge("certfleet_node_connected", "1 while the node's agent is connected, else 0.", "node");
        _reportAge = factory.CreateGauge("certfleet_node_report_age_seconds",
            "Seconds since the node's last inventory report (no series before its first).", "node");
        _rolloutsByState = factory.CreateGauge("certfleet_rollouts", "Rollouts in the coordinator's state, by state.", "state");
        _stepsByState = factory.CreateGauge("certfleet_rollout_steps", "Steps of all rollouts, by state (succeeded, failed, ...).", "state");
        _signingRefusals = factory.CreateCounter("certfleet_signing_refusals_total",
            "Renewals the signing policy refused (see `certfleet audit` for node, path and reason).");
        Registry.AddBeforeCollectCallback(Refresh);
    }

    public CollectorRegistry Registry { get; }

    public Task ExportAsync(Stream destination, CancellationToken cancellationToken) =>
        Registry.CollectAndExportAsTextAsync(destination, cancellationToken);

    private void Refresh()
    {
        // two scrapes at once would otherwise interleave their removals of stale series
        lock (_refreshing)
        {
            var now = _time.GetUtcNow();
            var nodes = _fleet.Nodes();
            RefreshCertificates(nodes, now);
            RefreshNodes(nodes, now);
            RefreshSources(nodes);
            RefreshRollouts();
            _signingRefusals.IncTo(_audit.Count(AuditKinds.Refused));
        }
    }

    private void RefreshCertificates(IReadOnlyList<NodeRecord> nodes, DateTimeOffset now)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var parsed = new Dictionary<ByteString, ParsedCertificate?>();
        var readErrors = 0;
        foreach (var node in nodes)
        {
            // a refused report is one more thing the node could not tell us
            readErrors += node.ReportRefusal is null ? 0 : 1;
            var report = node.Inventory;
            if (report is null)
            {
                continue;
            }
            readErrors += report.Errors.Count;
            var kubeconfigs = report.Certificates.Where(c => c.KubeconfigUser.Length > 0).Select(c => c.Path).ToHashSet(StringComparer.Ordinal);
            foreach (var reported in report.Certificates)
            {
                if (!parsed.TryGetValue(reported.Der, out var certificate))
                {
                    certificate = _parsed.TryGetValue(reported.Der, out var known) ? known : Parse(reported);
                    parsed[reported.Der] = certificate;
                }
                if (certificate is null)
                {
                    readErrors++;
                    continue;
                }
                var labels = ExporterLabels.Values(node.Name, reported, certificate.Labels, kubeconfigs.Contains(reported.Path) || LooksLikeKubeconfig(reported.Path));
                seen.Add(Key(labels));
                _notAfter.WithLabels(labels).Set(certificate.NotAfter.ToUnixTimeSeconds());
                _notBefore.WithLabels(labels).Set(certificate.NotBefore.ToUnixTimeSeconds());
                // the exporter's test: now after NotAfter
                _expired.WithLabels(labels).Set(now > certificate.NotAfter ? 1 : 0);
            }
        }
        foreach (var labels in _notAfter.GetAllLabelValues().Where(l => !seen.Contains(Key(l))).ToList())
        {
            _notAfter.RemoveLabelled(labels);
            _notBefore.RemoveLabelled(labels);
            _expired.RemoveLabelled(labels);
        }
        _readErrors.Set(readErrors);
        _parsed = parsed;
    }

    private static ParsedCertificate? Parse(ReportedCertificate reported)
    {
        try
        {
            var certificate = CertificateInfo.Parse(reported.Der.Span, reported.Path);
            return new ParsedCertificate(ExporterLabels.CertificateValues(certificate), certificate.NotBefore, certificate.NotAfter);
        }
        catch (Exception e) when (e is PkiException or System.Formats.Asn1.AsnContentException or CryptographicException or FormatException or ArgumentException)
        {
            // reports are checked at intake (strict DER); a certificate stored before that check, or one only .NET's
            // DER-strict X500DistinguishedName minds, is a read error here and never stops the scrape for the fleet
            return null;
        }
    }

    private void RefreshNodes(IReadOnlyList<NodeRecord> nodes, DateTimeOffset now)
    {
        _nodes.Set(nodes.Count);
        _agentsConnected.Set(nodes.Count(n => n.Connected));
        _coordinatorActive.Set(_lease is null || _lease.IsActive ? 1 : 0);
        foreach (var node in nodes)
        {
            _nodeConnected.WithLabels(node.Name).Set(node.Connected ? 1 : 0);
            if (node.LastReport is { } last)
            {
                _reportAge.WithLabels(node.Name).Set(Math.Max(0, (now - last).TotalSeconds));
            }
        }
        var names = nodes.Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var gauge in new[] { _nodeConnected, _reportAge })
        {
            foreach (var labels in gauge.GetAllLabelValues().Where(l => !names.Contains(l[0])).ToList())
            {
                gauge.RemoveLabelled(labels);
            }
        }
    }

    private void RefreshSources(IReadOnlyList<NodeRecord> nodes)
    {
        foreach (var node in nodes)
        {
            var source = SourceLabels.Of(node.Name);
            _sourceUp.WithLabels(source).Set(node.Connected && node.Inventory is not null && node.ReportRefusal is null ? 1 : 0);
            _sourceBundles.WithLabels(source).Set(node.Inventory?.Certificates.Select(c => c.Path).Distinct(StringComparer.Ordinal).Count() ?? 0);
            // every node has its series from the start, so the dashboard counts sources and increase() sees the first errors
            _sourceErrors.WithLabels(SourceLabels.Error(node.Name)).Inc(_sourceErrorCounts.NewErrors(node));
        }
        var names = nodes.Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
        _sourceErrorCounts.Forget(names);
        RemoveGone(_sourceUp, names);
        RemoveGone(_sourceBundles, names);
        RemoveGone(_sourceErrors, names);
    }

    /// <summary>Removes the series of nodes no longer enrolled (their label <c>node</c> is not in <paramref name="names"/>).</summary>
    private static void RemoveGone<TChild>(Collector<TChild> collector, HashSet<string> names)
        where TChild : ChildBase
    {
        foreach (var labels in collector.GetAllLabelValues().Where(l => !names.Contains(l[SourceLabels.NodeIndex(l)])).ToList())
        {
            collector.RemoveLabelled(labels);
        }
    }

    private void RefreshRollouts()
    {
        var rollouts = _rollouts.List();
        // every state always has a series, so a query over one state does not vanish when it drops to zero
        foreach (var state in Enum.GetValues<RolloutState>().Where(s => s != RolloutState.Unspecified))
        {
            _rolloutsByState.WithLabels(state.ToText()).Set(rollouts.Count(r => r.State == state));
        }
        var steps = rollouts.SelectMany(r => r.Steps).ToList();
        foreach (var state in Enum.GetValues<StepState>().Where(s => s != StepState.Unspecified))
        {
            _stepsByState.WithLabels(state.ToText()).Set(steps.Count(s => s.State == state));
        }
    }

    /// <summary>A kubeconfig with only certificate-authority-data (token auth): the usual file names of one.</summary>
    private static bool LooksLikeKubeconfig(string path) =>
        path.EndsWith(".conf", StringComparison.Ordinal) || path.EndsWith(".kubeconfig", StringComparison.Ordinal)
        || path.EndsWith("kubeconfig", StringComparison.Ordinal);

    private static string Key(string[] labels) => string.Join('\0', labels);

    private sealed record ParsedCertificate(string[] Labels, DateTimeOffset NotBefore, DateTimeOffset NotAfter);
}
