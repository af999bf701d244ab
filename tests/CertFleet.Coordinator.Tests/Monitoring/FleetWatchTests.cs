using CertFleet.Coordinator.Notifications;
using CertFleet.Coordinator.Rollouts;
using CertFleet.Protocol.V1;
using Google.Protobuf.WellKnownTypes;

namespace CertFleet.Coordinator.Tests.Monitoring;

/// <summary>What <see cref="FleetWatch"/> tells from one fleet state to the next, on states written out by hand with their times.</summary>
public sealed class FleetWatchTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Observe_AgentGoneForLessThanAMinute_NothingThenLostOnceThenBackOnce()
    {
        var watch = new FleetWatch("coordinator:8443");
        var kinds = new List<string>();
        var downAlerts = new List<int>();
        foreach (var (seconds, connected) in new[] { (0, true), (10, false), (50, false), (75, false), (120, false), (130, true), (140, true) })
        {
            var (events, alerts) = watch.Observe(Snapshot(Start.AddSeconds(seconds), [Node("worker-1", connected)]));
            kinds.AddRange(events.Select(e => $"{seconds}:{e.Kind}"));
            downAlerts.Add(alerts.Count(a => a.Labels["alertname"] == "CertFleetAgentDown"));
        }

        Assert.Equal(["75:agent-lost", "130:agent-back"], kinds);
        Assert.Equal([0, 0, 0, 1, 1, 0, 0], downAlerts);
    }

    [Fact]
    public void Observe_RolloutsAtStartThenNewOnes_OnlyChangesAfterTheStartAreTold()
    {
        var watch = new FleetWatch("coordinator:8443");
        var old = Rollout("r-old", RolloutState.Completed);
        var running = Rollout("r-1", RolloutState.Running);

        var first = watch.Observe(Snapshot(Start, [], [old, Rollout("r-halted-before", RolloutState.Halted)]));
        var second = watch.Observe(Snapshot(Start.AddSeconds(30), [], [old, running]));
        var third = watch.Observe(Snapshot(Start.AddSeconds(60), [], [old, Halted(running, "gate failed")]));
        var fourth = watch.Observe(Snapshot(Start.AddSeconds(90), [], [old, Rollout("r-quick", RolloutState.Completed)]));

        Assert.Empty(first.Events);
        Assert.Single(first.Alerts, a => a.Labels["alertname"] == "CertFleetRolloutHalted" && a.Labels["rollout"] == "r-halted-before");
        Assert.Equal(["rollout-started"], second.Events.Select(e => e.Kind));
        var halted = Assert.Single(third.Events);
        Assert.Equal(("rollout-halted", "r-1", "gate failed"), (halted.Kind, halted.Rollout, halted.Reason));
        // started and finished between two reads: both told
        Assert.Equal(["rollout-started", "rollout-completed"], fourth.Events.Select(e => e.Kind));
    }

    [Fact]
    public void Observe_CertificateDueThenRenewed_ToldOnceAlertWhileDueCriticalUnderTwoWeeks()
    {
        var watch = new FleetWatch("coordinator:8443");
        var due = Certificate("/etc/kubernetes/pki/apiserver.crt", Start.AddDays(20), "old");
        var renewed = Certificate("/etc/kubernetes/pki/apiserver.crt", Start.AddDays(385), "new");

        var first = watch.Observe(Snapshot(Start, [Node("master-1", true, due)]));
        var later = watch.Observe(Snapshot(Start.AddDays(7), [Node("master-1", true, due)]));
        var after = watch.Observe(Snapshot(Start.AddDays(8), [Node("master-1", true, renewed)]));

        var told = Assert.Single(first.Events);
        Assert.Equal(("certificate-due", "master-1", "/etc/kubernetes/pki/apiserver.crt"), (told.Kind, told.Node, told.Path));
        Assert.Empty(later.Events);
        Assert.Equal("warning", Assert.Single(first.Alerts).Labels["severity"]);
        Assert.Equal("critical", Assert.Single(later.Alerts).Labels["severity"]); // 13 days left
        Assert.Equal(first.Alerts[0].StartsAt, later.Alerts[0].StartsAt);
        Assert.Empty(after.Events);
        Assert.Empty(after.Alerts);
    }

    [Fact]
    public void Observe_Refusal_ToldOnceAndAnAlertForAnHour()
    {
        var watch = new FleetWatch("coordinator:8443");
        watch.Observe(Snapshot(Start, []));
        var refusal = new AuditEvent
        {
            Sequence = 7, Time = Timestamp.FromDateTimeOffset(Start.AddSeconds(5)), Kind = "refused", Node = "worker-1",
            Path = "/etc/kubernetes/pki/admin.crt", Reason = "an admin identity on a worker",
        };

        var told = watch.Observe(Snapshot(Start.AddSeconds(10), [], [], [refusal]));
        var stillAlert = watch.Observe(Snapshot(Start.AddMinutes(59), []));
        var over = watch.Observe(Snapshot(Start.AddMinutes(61), []));

        var refused = Assert.Single(told.Events);
        Assert.Equal(("signing-refused", "worker-1", "an admin identity on a worker"), (refused.Kind, refused.Node, refused.Reason));
        Assert.Equal(Start.AddSeconds(5).AddHours(1), Assert.Single(told.Alerts).EndsAt);
        Assert.Single(stillAlert.Alerts);
        Assert.Empty(over.Alerts);
        Assert.Empty(stillAlert.Events);
    }

    private static FleetSnapshot Snapshot(DateTimeOffset time, IReadOnlyList<WatchedNode> nodes, IReadOnlyList<Rollout>? rollouts = null,
        IReadOnlyList<AuditEvent>? refusals = null) => new(time, nodes, rollouts ?? [], refusals ?? []);

    private static WatchedNode Node(string name, bool connected, params WatchedCertificate[] certificates) => new(name, connected, certificates);

    private static WatchedCertificate Certificate(string path, DateTimeOffset notAfter, string fingerprint) =>
        new(path, "CN=kube-apiserver", "kube-apiserver", notAfter, fingerprint, IsCa: false);

    private static Rollout Halted(Rollout rollout, string reason)
    {
        var halted = rollout.Clone();
        halted.State = RolloutState.Halted;
        halted.HaltReason = reason;
        return halted;
    }

    private static Rollout Rollout(string id, RolloutState state) =>
        new() { Id = id, State = state, CreatedAt = Timestamp.FromDateTimeOffset(Start) };
}
