using CertFleet.Coordinator.Hosting;
using CertFleet.Coordinator.Rollouts;
using CertFleet.Protocol.V1;
using CertFleet.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace CertFleet.Coordinator.Tests.Rollouts;

public sealed class AutoRenewalTests(EcClusterPkiFixture fixture) : IClassFixture<EcClusterPkiFixture>
{
    [Fact]
    public async Task CheckAsync_OutsideThenInsideTheWindow_StartsOnlyInsideAndOnlyOnce()
    {
        using var bed = FleetTestbed.Create(fixture, configure: TomorrowTwoToFour);
        await ReportAllAsync(bed);
        var autoRenewal = AutoRenewalOf(bed);

        var outside = await autoRenewal.CheckAsync(CancellationToken.None);
        bed.Time.SetUtcNow(TomorrowAt(bed, new TimeOnly(2, 30)));
        var inside = await autoRenewal.CheckAsync(CancellationToken.None);
        var again = await autoRenewal.CheckAsync(CancellationToken.None);

        Assert.Null(outside);
        Assert.NotNull(inside);
        Assert.True(inside.Automatic);
        Assert.Equal((long)TimeSpan.FromDays(30).TotalSeconds, inside.Request.ExpiringWithinSeconds);
        Assert.Null(again);
        Assert.Single((await bed.Admin.ListAsync(CancellationToken.None)).Rollouts);
    }

    [Fact]
    public async Task CheckAsync_NothingExpiresWithinTheThreshold_StartsNothing()
    {
        using var bed = FleetTestbed.Create(fixture, configure: o => o with { AutoRenewWithin = TimeSpan.FromDays(5) });
        await ReportAllAsync(bed);

        var started = await AutoRenewalOf(bed).CheckAsync(CancellationToken.None);

        Assert.Null(started);
        Assert.Empty((await bed.Admin.ListAsync(CancellationToken.None)).Rollouts);
    }

    [Fact]
    public async Task ExecuteAsync_TimerReachesTheWindow_StartsAnAutomaticRollout()
    {
        using var bed = FleetTestbed.Create(fixture, configure: TomorrowTwoToFour);
        await ReportAllAsync(bed);
        bed.Time.SetUtcNow(TomorrowAt(bed, new TimeOnly(1, 59, 30)));
        using var autoRenewal = AutoRenewalOf(bed);

        await autoRenewal.StartAsync(CancellationToken.None);
        bed.Time.Advance(AutoRenewal.Period);
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (bed.Store.FindUnfinished() is null)
        {
            await Task.Delay(50, limit.Token);
        }
        await autoRenewal.StopAsync(CancellationToken.None);

        Assert.True(bed.Store.FindUnfinished()!.Automatic);
    }

    [Fact]
    public async Task CheckAsync_NodeReportsItsOldCertificatesAgainAfterAnAutomaticRenewal_StartsNoRolloutUntilTheHoldEnds()
    {
        using var bed = FleetTestbed.Create(fixture, configure: o => o with { AutoRenewWithin = TimeSpan.FromDays(30) });
        await ReportAllAsync(bed);
        var autoRenewal = AutoRenewalOf(bed);
        var first = await autoRenewal.CheckAsync(CancellationToken.None);
        Assert.NotNull(first);
        await bed.RunAsync();
        Assert.Equal(RolloutState.Completed, bed.Store.Find(first.Id)!.State);

        // worker-1 reports its old, expiring files again, as a hostile agent (or a backup put back) would
        ProcessRunner.RunChecked("cp", "-a", fixture.NodeRoot("worker-1") + "/.", bed.HostPath("worker-1", "/"));
        await ReportAllAsync(bed);
        var checks = new List<Rollout?>();
        for (var minute = 0; minute < 3; minute++)
        {
            bed.Time.Advance(AutoRenewal.Period);
            checks.Add(await autoRenewal.CheckAsync(CancellationToken.None));
        }
        bed.Time.Advance(AutoRenewal.HoldFor);
        var afterTheHold = await autoRenewal.CheckAsync(CancellationToken.None);

        Assert.All(checks, Assert.Null);
        var held = bed.Audit.Read(null, null).Where(e => e.Kind == "auto-renewal-held").ToList();
        Assert.NotEmpty(held);
        Assert.All(held, e => Assert.Equal("worker-1", e.Node));
        Assert.All(held, e => Assert.Equal(first.Id, e.RolloutId));
        Assert.Equal(held.Count, held.Select(e => e.Reason).Distinct().Count());
        // the fingerprint as every hash is shown to operators (Sha256Text)
        Assert.All(held, e => Assert.Matches("reports again the certificate sha256:[0-9a-f]{64} that automatic rollout", e.Reason));
        Assert.NotNull(afterTheHold);
        Assert.Equal(2, (await bed.Admin.ListAsync(CancellationToken.None)).Rollouts.Count);
    }

    [Theory]
    [InlineData("2026-11-28T02:00:00Z", true)]
    [InlineData("2026-11-28T03:59:59Z", true)]
    [InlineData("2026-11-28T04:00:00Z", false)]
    [InlineData("2026-11-21T01:59:00Z", false)]
    [InlineData("2026-11-29T02:30:00Z", false)]
    public void Contains_SaturdayTwoToFour_OnlyInside(string moment, bool inside) =>
        Assert.Equal(inside, new RenewalWindow(DayOfWeek.Saturday, new TimeOnly(2, 0), new TimeOnly(4, 0)).Contains(DateTimeOffset.Parse(moment, System.Globalization.CultureInfo.InvariantCulture)));

    [Theory]
    [InlineData("2026-11-28T23:00:00Z", true)]
    [InlineData("2026-11-29T01:00:00Z", true)]
    [InlineData("2026-11-29T02:00:00Z", false)]
    [InlineData("2026-11-28T21:00:00Z", false)]
    public void Contains_PastMidnight_RunsIntoTheNextDay(string moment, bool inside) =>
        Assert.Equal(inside, new RenewalWindow(DayOfWeek.Saturday, new TimeOnly(22, 0), new TimeOnly(2, 0)).Contains(DateTimeOffset.Parse(moment, System.Globalization.CultureInfo.InvariantCulture)));

    private static CoordinatorOptions TomorrowTwoToFour(CoordinatorOptions options) => options with
    {
        AutoRenewWithin = TimeSpan.FromDays(30),
        Window = new RenewalWindow(DateTimeOffset.UtcNow.AddDays(1).DayOfWeek, new TimeOnly(2, 0), new TimeOnly(4, 0)),
    };

    private static DateTimeOffset TomorrowAt(FleetTestbed bed, TimeOnly time) =>
        new(DateOnly.FromDateTime(bed.Time.GetUtcNow().UtcDateTime.AddDays(1)), time, TimeSpan.Zero);

    /// <summary>Agents report on connect; the automatic check plans from those reports.</summary>
    private static async Task ReportAllAsync(FleetTestbed bed)
    {
        foreach (var node in bed.Inventory.Nodes())
        {
            await bed.Inventory.RefreshAsync(node.Name, CancellationToken.None);
        }
    }

    private static AutoRenewal AutoRenewalOf(FleetTestbed bed) =>
        new(bed.Options, bed.Planner, bed.Store, bed.Admin, bed.Audit, bed.Time, NullLogger<AutoRenewal>.Instance);
}
