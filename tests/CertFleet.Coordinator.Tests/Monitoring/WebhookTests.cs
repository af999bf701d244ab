using System.Text.Json;
using CertFleet.Coordinator.Rollouts;
using CertFleet.Coordinator.Tests.Support;
using CertFleet.Protocol.V1;
using CertFleet.Testing;

namespace CertFleet.Coordinator.Tests.Monitoring;

/// <summary>
/// `notify-webhook` from a real coordinator to a real HTTP receiver on loopback (127.0.136.x): one JSON POST per
/// event, retried when the receiver fails, never in a rollout's way.
/// </summary>
public sealed class WebhookTests(EcClusterPkiFixture fixture) : IClassFixture<EcClusterPkiFixture>
{
    [Fact]
    public async Task Webhook_DueFleetRenewed_PostsEachDueCertificateThenTheRolloutStartedAndCompleted()
    {
        await using var receiver = await WebhookReceiver.StartAsync("127.0.136.1:18080");
        await using var fleet = await NotifiedFleet.StartAsync(fixture, "127.0.136.1:7443", o => o with { NotifyWebhook = new Uri(receiver.Url) });
        var due = fixture.Manifest().Where(r => NotifiedFleet.Nodes.Contains(r.Node)).ToList();
        await Eventually.True(() => Events(receiver, "certificate-due").Count >= 2, "certificate-due events arrive");

        var rollout = await fleet.RenewAllAsync();
        await Eventually.True(() => Events(receiver, "rollout-completed").Count == 1, "rollout-completed arrives", TimeSpan.FromSeconds(20));
        await Task.Delay(TimeSpan.FromSeconds(1)); // a few more reads of the renewed fleet

        Assert.Equal(RolloutState.Completed, rollout.State);
        var dueEvents = Events(receiver, "certificate-due");
        // every leaf of the two nodes expires in 10 days: each told once, with where it is and when it expires
        var apiserver = Assert.Single(dueEvents, e => e.GetProperty("node").GetString() == "master-1"
            && e.GetProperty("path").GetString() == "/etc/kubernetes/pki/apiserver.crt");
        Assert.Equal("CN=kube-apiserver", apiserver.GetProperty("subject").GetString());
        Assert.InRange((apiserver.GetProperty("notAfter").GetDateTimeOffset() - DateTimeOffset.UtcNow).TotalDays, 8, 11);
        Assert.Contains("expires in", apiserver.GetProperty("summary").GetString(), StringComparison.Ordinal);
        Assert.Equal("127.0.136.1:7443", apiserver.GetProperty("coordinator").GetString());
        Assert.Equal(dueEvents.Count, dueEvents.Select(e => $"{e.GetProperty("node")} {e.GetProperty("path")}").Distinct().Count());
        Assert.True(dueEvents.Count >= 10, $"{dueEvents.Count} certificate-due events for the two nodes' leaves");
        var started = Assert.Single(Events(receiver, "rollout-started"));
        var completed = Assert.Single(Events(receiver, "rollout-completed"));
        Assert.Equal(rollout.Id, started.GetProperty("rollout").GetString());
        Assert.Equal(rollout.Id, completed.GetProperty("rollout").GetString());
        Assert.Empty(Events(receiver, "rollout-halted"));
        // the renewed certificates are a year away: nothing more is due
        Assert.Equal(dueEvents.Count, Events(receiver, "certificate-due").Count);
        Assert.NotEmpty(due);
    }

    [Fact]
    public async Task Webhook_ReceiverFailsTwiceThenTakesIt_EveryEventDeliveredInOrderAfterTheRetries()
    {
        await using var receiver = await WebhookReceiver.StartAsync("127.0.136.2:18080");
        receiver.Answer = (attempt, _) => Task.FromResult(attempt <= 2 ? 503 : 200);
        await using var fleet = await NotifiedFleet.StartAsync(fixture, "127.0.136.2:7443", o => o with { NotifyWebhook = new Uri(receiver.Url) });

        await Eventually.True(() => Events(receiver, "certificate-due").Count >= 10, "the due certificates arrive after two failed posts");

        // the two refused posts were retried, not dropped and not sent twice once taken
        Assert.Equal(2, receiver.Refused);
        var delivered = receiver.Delivered.ToList();
        Assert.Equal(delivered.Count, delivered.Distinct().Count());
    }

    [Fact]
    public async Task Webhook_ReceiverNeverAnswersAndAGateFails_RolloutRunsAndHaltsAsWithoutAndTheHaltIsPostedOnceItAnswers()
    {
        await using var receiver = await WebhookReceiver.StartAsync("127.0.136.3:18080");
        var answering = new TaskCompletionSource();
        receiver.Answer = async (_, cancelled) =>
        {
            await answering.Task.WaitAsync(cancelled);
            return 200;
        };
        await using var fleet = await NotifiedFleet.StartAsync(fixture, "127.0.136.3:7443", o => o with { NotifyWebhook = new Uri(receiver.Url) });
        fleet.Gateway.FailingGates[("worker-1", "kubelet.service")] = "kubelet: not active";

        var started = DateTimeOffset.UtcNow;
        var rollout = await fleet.RenewAllAsync();
        var took = DateTimeOffset.UtcNow - started;
        answering.SetResult();
        await Eventually.True(() => Events(receiver, "rollout-halted").Count == 1, "rollout-halted arrives once the receiver answers", TimeSpan.FromSeconds(60));

        Assert.Equal(RolloutState.Halted, rollout.State);
        Assert.True(took < TimeSpan.FromSeconds(60), $"the rollout took {took} while the receiver hung");
        var halted = Assert.Single(Events(receiver, "rollout-halted"));
        Assert.Equal(rollout.Id, halted.GetProperty("rollout").GetString());
        Assert.Contains("kubelet", halted.GetProperty("reason").GetString(), StringComparison.Ordinal);
    }

    private static List<JsonElement> Events(WebhookReceiver receiver, string kind) =>
        [.. receiver.Delivered.Select(body => JsonDocument.Parse(body).RootElement).Where(e => e.GetProperty("kind").GetString() == kind)];
}
