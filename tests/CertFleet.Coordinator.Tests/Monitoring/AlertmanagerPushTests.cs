using CertFleet.Protocol.V1;
using CertFleet.Coordinator.Tests.Support;
using CertFleet.Testing;

namespace CertFleet.Coordinator.Tests.Monitoring;

/// <summary>
/// `notify-alertmanager` from a real coordinator to a real Alertmanager (127.0.137.1:19093): an alert per certificate
/// due appears while it is due and resolves once a rollout has renewed it; a halted rollout is an alert until it ends.
/// </summary>
public sealed class AlertmanagerPushTests(EcClusterPkiFixture fixture) : IClassFixture<EcClusterPkiFixture>
{
    [Fact]
    public async Task Alertmanager_CertificatesDueThenRenewed_AlertsFireWhileDueAndResolveAfterTheRenewal()
    {
        await using var alertmanager = await AlertmanagerServer.StartAsync("127.0.137.1:19093");
        await using var fleet = await NotifiedFleet.StartAsync(fixture, "127.0.137.1:7443", o => o with { NotifyAlertmanager = new Uri(alertmanager.Url) });

        // each node's alerts are pushed as its report arrives: wait for master-1's and worker-1's before the snapshot
        await Eventually.True(async () => await alertmanager.ActiveAlertsAsync() is var active && active.Any(IsApiserverDue)
            && active.Any(a => a["alertname"] == "CertFleetCertificateDue" && a["node"] == "worker-1"),
            "the apiserver certificate's alert and worker-1's are active", TimeSpan.FromSeconds(30));
        var whileDue = await alertmanager.ActiveAlertsAsync();
        var rollout = await fleet.RenewAllAsync();
        await Eventually.True(async () => !(await alertmanager.ActiveAlertsAsync()).Any(a => a["alertname"] == "CertFleetCertificateDue"),
            "every certificate-due alert resolved", TimeSpan.FromSeconds(30));

        Assert.Equal(RolloutState.Completed, rollout.State);
        var apiserver = Assert.Single(whileDue, IsApiserverDue);
        Assert.Equal("critical", apiserver["severity"]); // 10 days left: under the 14-day line
        Assert.Equal("kube-apiserver", apiserver["subject_CN"]);
        Assert.Contains(whileDue, a => a["alertname"] == "CertFleetCertificateDue" && a["node"] == "worker-1");
        Assert.DoesNotContain(whileDue, a => a["alertname"] == "CertFleetCertificateDue" && a["subject_CN"] == "kubernetes"); // the CA: 30 days
    }

    [Fact]
    public async Task Alertmanager_RolloutHaltsThenIsAborted_HaltAlertWhileHaltedResolvedAfter()
    {
        await using var alertmanager = await AlertmanagerServer.StartAsync("127.0.137.2:19093");
        await using var fleet = await NotifiedFleet.StartAsync(fixture, "127.0.137.2:7443", o => o with { NotifyAlertmanager = new Uri(alertmanager.Url) });
        fleet.Gateway.FailingGates[("worker-1", "kubelet.service")] = "kubelet: not active";

        var rollout = await fleet.RenewAllAsync();
        await Eventually.True(async () => (await alertmanager.ActiveAlertsAsync()).Any(a => a["alertname"] == "CertFleetRolloutHalted"),
            "the halt is an alert", TimeSpan.FromSeconds(30));
        var halted = Assert.Single(await alertmanager.ActiveAlertsAsync(), a => a["alertname"] == "CertFleetRolloutHalted");
        await fleet.Admin.AbortAsync(rollout.Id, CancellationToken.None);
        await Eventually.True(async () => !(await alertmanager.ActiveAlertsAsync()).Any(a => a["alertname"] == "CertFleetRolloutHalted"),
            "the halt alert resolved", TimeSpan.FromSeconds(30));

        Assert.Equal(RolloutState.Halted, rollout.State);
        Assert.Equal(rollout.Id, halted["rollout"]);
        Assert.Equal("critical", halted["severity"]);
    }

    private static bool IsApiserverDue(Dictionary<string, string> alert) =>
        alert["alertname"] == "CertFleetCertificateDue" && alert["node"] == "master-1" && alert["filepath"] == "/etc/kubernetes/pki/apiserver.crt";
}
