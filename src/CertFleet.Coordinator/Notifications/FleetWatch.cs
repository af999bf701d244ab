using CertFleet.Coordinator.Rollouts;
using CertFleet.Protocol.V1;

namespace CertFleet.Coordinator.Notifications;

/// <summary>
/// Compares each <see cref="FleetSnapshot"/> with the ones before it: what changed becomes <see cref="FleetEvent"/>s
/// for the webhook, and what holds now becomes the <see cref="FleetAlert"/>s Alertmanager keeps firing. Watching
/// the stored state from beside, rather than being called from the rollout runner, is what keeps a slow or dead
/// receiver from ever holding a rollout up. Not thread-safe: one <see cref="Notifier"/> loop calls it.
/// </summary>
internal sealed class FleetWatch(string coordinator)
{
    /// <summary>x509-certificate-exporter's warning: four weeks left.</summary>
    public static readonly TimeSpan WarningWindow = TimeSpan.FromDays(28);

    /// <summary>Its critical: two weeks left.</summary>
    public static readonly TimeSpan CriticalWindow = TimeSpan.FromDays(14);

    /// <summary>A disconnection shorter than this (an agent restarting) is not a lost agent.</summary>
    public static readonly TimeSpan AgentLostAfter = TimeSpan.FromMinutes(1);

    /// <summary>How long a refusal stays an alert: the shipped Prometheus rule looks back an hour too.</summary>
    public static readonly TimeSpan RefusalAlertFor = TimeSpan.FromHours(1);

    private readonly Dictionary<string, RolloutState> _rolloutStates = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _due = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _disconnectedSince = new(StringComparer.Ordinal);
    private readonly HashSet<string> _lost = new(StringComparer.Ordinal);
    private readonly List<AuditEvent> _recentRefusals = [];
    private bool _first = true;

    public (IReadOnlyList<FleetEvent> Events, IReadOnlyList<FleetAlert> Alerts) Observe(FleetSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var events = new List<FleetEvent>();
        var alerts = new List<FleetAlert>();
        WatchCertificates(snapshot, events, alerts);
        WatchAgents(snapshot, events, alerts);
        WatchRollouts(snapshot, events, alerts);
        WatchRefusals(snapshot, events, alerts);
        _first = false;
        return (events, alerts);
    }

    private void WatchCertificates(FleetSnapshot snapshot, List<FleetEvent> events, List<FleetAlert> alerts)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in snapshot.Nodes)
        {
            foreach (var certificate in node.Certificates)
            {
                var left = certificate.NotAfter - snapshot.Time;
                if (left >= WarningWindow)
                {
                    continue;
                }
                var key = $"{node.Name}\n{certificate.Path}\n{certificate.Fingerprint}";
                seen.Add(key);
                if (!_due.TryGetValue(key, out var since))
                {
                    since = snapshot.Time;
                    _due[key] = since;
                    events.Add(Event(FleetEventKinds.CertificateDue, snapshot.Time,
                        $"{certificate.Path} on {node.Name} ({certificate.Subject}) {Expiry(left)}; renew it: certfleet renew --expiring-within 28d --wait")
                        with { Node = node.Name, Path = certificate.Path, Subject = certificate.Subject, NotAfter = certificate.NotAfter });
                }
                alerts.Add(new FleetAlert(
                    Labels("CertFleetCertificateDue", left < CriticalWindow ? "critical" : "warning",
                        ("node", node.Name), ("filepath", certificate.Path), ("subject_CN", certificate.CommonName)),
                    Annotations($"Certificate on {node.Name} is due for renewal",
                        $"{certificate.Path} ({certificate.Subject}) on node {node.Name} {Expiry(left)}: certfleet renew --expiring-within 28d --wait"),
                    since));
            }
        }
        // renewed (a new fingerprint), gone or removed: no longer due; a certificate due again later is told again
        foreach (var gone in _due.Keys.Where(k => !seen.Contains(k)).ToList())
        {
            _due.Remove(gone);
        }
    }

    private void WatchAgents(FleetSnapshot snapshot, List<FleetEvent> events, List<FleetAlert> alerts)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in snapshot.Nodes)
        {
            names.Add(node.Name);
            if (node.Connected)
            {
                _disconnectedSince.Remove(node.Name);
                if (_lost.Remove(node.Name))
                {
                    events.Add(Event(FleetEventKinds.AgentBack, snapshot.Time, $"the agent of {node.Name} is connected again") with { Node = node.Name });
                }
                continue;
            }
            if (!_disconnectedSince.TryGetValue(node.Name, out var since))
            {
                since = snapshot.Time;
                _disconnectedSince[node.Name] = since;
            }
            if (snapshot.Time - since < AgentLostAfter)
            {
                continue;
            }
            if (_lost.Add(node.Name))
            {
                events.Add(Event(FleetEventKinds.AgentLost, snapshot.Time,
                    $"the agent of {node.Name} is not connected; check its certfleet-agent service (systemctl status certfleet-agent)") with { Node = node.Name });
            }
            alerts.Add(new FleetAlert(Labels("CertFleetAgentDown", "warning", ("node", node.Name)),
                Annotations($"The CertFleet agent of {node.Name} is not connected",
                    $"Rollouts cannot reach node {node.Name}: systemctl status certfleet-agent and journalctl -u certfleet-agent on it"),
                since));
        }
        foreach (var removed in _disconnectedSince.Keys.Where(n => !names.Contains(n)).ToList())
        {
            _disconnectedSince.Remove(removed);
            _lost.Remove(removed);
        }
    }

    private void WatchRollouts(FleetSnapshot snapshot, List<FleetEvent> events, List<FleetAlert> alerts)
    {
        foreach (var rollout in snapshot.Rollouts)
        {
            var known = _rolloutStates.TryGetValue(rollout.Id, out var before);
            _rolloutStates[rollout.Id] = rollout.State;
            if (rollout.State == RolloutState.Halted)
            {
                alerts.Add(new FleetAlert(Labels("CertFleetRolloutHalted", "critical", ("rollout", rollout.Id)),
                    Annotations($"Rollout {rollout.Id} is halted", $"{rollout.HaltReason} Then: certfleet rollout show {rollout.Id}, fix the cause, certfleet rollout resume {rollout.Id}"),
                    rollout.CreatedAt?.ToDateTimeOffset() ?? snapshot.Time));
            }
            // the rollouts there when the coordinator started were told about before it stopped
            if (_first || (known && before == rollout.State))
            {
                continue;
            }
            if (!known)
            {
                events.Add(RolloutEvent(FleetEventKinds.RolloutStarted, snapshot.Time, rollout,
                    $"rollout {rollout.Id}{(rollout.Automatic ? " (automatic)" : "")} started: {rollout.Steps.Count} steps"));
            }
            if (Ended(rollout) is { } ended)
            {
                events.Add(RolloutEvent(ended.Kind, snapshot.Time, rollout, ended.Summary) with
                {
                    Reason = rollout.HaltReason.Length == 0 ? null : rollout.HaltReason,
                });
            }
        }
    }

    /// <summary>The event of a rollout that is no longer running (halted included: it waits for the operator), or null.</summary>
    private static (string Kind, string Summary)? Ended(Rollout rollout) => rollout.State switch
    {
        RolloutState.Completed => (FleetEventKinds.RolloutCompleted, $"rollout {rollout.Id} completed: {rollout.Steps.Count} steps"),
        RolloutState.Halted => (FleetEventKinds.RolloutHalted, $"rollout {rollout.Id} halted: {rollout.HaltReason}"),
        RolloutState.Aborted => (FleetEventKinds.RolloutAborted, $"rollout {rollout.Id} was aborted"),
        RolloutState.RolledBack => (FleetEventKinds.RolloutRolledBack, $"rollout {rollout.Id} was rolled back"),
        _ => null,
    };

    private void WatchRefusals(FleetSnapshot snapshot, List<FleetEvent> events, List<FleetAlert> alerts)
    {
        foreach (var refusal in snapshot.NewRefusals)
        {
            _recentRefusals.Add(refusal);
            events.Add(Event(FleetEventKinds.SigningRefused, refusal.Time.ToDateTimeOffset(),
                $"the coordinator refused to renew {refusal.Path} on {refusal.Node}: {refusal.Reason}")
                with { Node = refusal.Node, Path = refusal.Path, Subject = NullIfEmpty(refusal.Subject), Reason = refusal.Reason });
        }
        _recentRefusals.RemoveAll(r => snapshot.Time - r.Time.ToDateTimeOffset() >= RefusalAlertFor);
        foreach (var refusal in _recentRefusals)
        {
            var at = refusal.Time.ToDateTimeOffset();
            alerts.Add(new FleetAlert(Labels("CertFleetSigningRefused", "warning", ("node", refusal.Node), ("filepath", refusal.Path)),
                Annotations($"A renewal on {refusal.Node} was refused", $"{refusal.Path}: {refusal.Reason} (certfleet audit --node {refusal.Node})"),
                at) { EndsAt = at + RefusalAlertFor });
        }
    }

    private FleetEvent Event(string kind, DateTimeOffset time, string summary) =>
        new() { Kind = kind, Time = time, Coordinator = coordinator, Summary = summary };

    private FleetEvent RolloutEvent(string kind, DateTimeOffset time, Rollout rollout, string summary) =>
        Event(kind, time, summary) with { Rollout = rollout.Id };

    private static SortedDictionary<string, string> Labels(string alert, string severity, params (string Name, string Value)[] labels)
    {
        var all = new SortedDictionary<string, string>(StringComparer.Ordinal) { ["alertname"] = alert, ["severity"] = severity };
        foreach (var (name, value) in labels)
        {
            all[name] = value;
        }
        return all;
    }

    private static Dictionary<string, string> Annotations(string summary, string description) =>
        new(StringComparer.Ordinal) { ["summary"] = summary, ["description"] = description };

    private static string Expiry(TimeSpan left) => left <= TimeSpan.Zero
        ? $"expired {Math.Ceiling(-left.TotalDays):0} day(s) ago"
        : $"expires in {Math.Floor(left.TotalDays):0} day(s)";

    private static string? NullIfEmpty(string text) => text.Length == 0 ? null : text;
}
