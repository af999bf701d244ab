using CertFleet.EndToEnd.Tests.Soak;

namespace CertFleet.EndToEnd.Tests;

/// <summary>
/// Issue 5's soak: consecutive `certfleet renew --all` rollouts on the loopback fleet (real etcd, coordinator and
/// agent processes), each with a SIGKILL of the coordinator or of one agent at a random moment (seeded), that
/// process restarted and the rollout resumed until it completes. The rolling-renewal invariant is checked after
/// every rollout; at the end every leaf is renewed and valid, etcd is healthy, no temporary file is left and every
/// backup is in the audit. Count: CERTFLEET_SOAK_ROLLOUTS (default 20); replay: CERTFLEET_SOAK_SEED.
/// </summary>
[Collection(LoopbackFleetCollection.Name)]
public sealed class SoakTests
{
    /// <summary>The first rollout's kill lands within this; later ones within the shortest rollout seen.</summary>
    private static readonly TimeSpan FirstKillWithin = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task RenewAll_RepeatedWithRandomSigkills_EveryLeafRenewedEtcdHealthyNoTemporariesBackupsAudited()
    {
        var settings = SoakSettings.FromEnvironment();
        var story = new SoakStory(settings);
        story.Add($"soak: {settings.Rollouts} rollouts, seed {settings.Seed}");
        await using var fleet = await LoopbackFleet.StartAsync();
        await SoakAsync(fleet, settings, story);
    }

    /// <summary>
    /// The same soak on a coordinator group (two coordinators on PostgreSQL): a kill may hit the active coordinator
    /// (the standby takes over, the killed one rejoins as standby), the standby or an agent. Count:
    /// CERTFLEET_SOAK_GROUP_ROLLOUTS (default 6); replay: CERTFLEET_SOAK_SEED.
    /// </summary>
    [Fact]
    public async Task RenewAll_TwoCoordinatorsOnPostgresWithRandomSigkills_EveryLeafRenewedEtcdHealthyNoTemporariesBackupsAudited()
    {
        var settings = SoakSettings.ForGroupFromEnvironment();
        var story = new SoakStory(settings);
        story.Add($"coordinator-group soak: {settings.Rollouts} rollouts, seed {settings.Seed}");
        await using var fleet = await LoopbackFleet.StartGroupAsync();
        await SoakAsync(fleet, settings, story);
    }

    private static async Task SoakAsync(LoopbackFleet fleet, SoakSettings settings, SoakStory story)
    {
        story.FleetStarted();
        try
        {
            var random = new Random(settings.Seed);
            var killWithin = FirstKillWithin;
            for (var number = 1; number <= settings.Rollouts; number++)
            {
                story.CheckTime(SoakSettings.EndChecks, $"starting rollout {number} of {settings.Rollouts}");
                var took = await new KilledRollout(fleet, random, story).RunAsync(number, killWithin);
                killWithin = took < killWithin || number == 1 ? took : killWithin;
                FleetEndState.AssertInvariant(fleet, story, $"after rollout {number}");
            }

            var audit = FleetEndState.Audit(fleet, story);
            FleetEndState.AssertEveryLeafRenewed(fleet, story, audit);
            FleetEndState.AssertEtcdHealthy(fleet, story);
            FleetEndState.AssertNoTemporaryFiles(fleet, story);
            FleetEndState.AssertBackupsAudited(fleet, story, audit);
            story.CheckTime(TimeSpan.Zero, "checking the end state");
        }
        catch (Exception) when (DumpLogs(fleet))
        {
            throw;
        }
    }

    private static bool DumpLogs(LoopbackFleet fleet)
    {
        Console.Error.WriteLine(fleet.LogTails(60));
        return false;
    }
}
