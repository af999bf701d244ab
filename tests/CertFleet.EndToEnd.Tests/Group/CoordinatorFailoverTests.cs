using System.Diagnostics;
using CertFleet.Testing;
using Xunit.Abstractions;

namespace CertFleet.EndToEnd.Tests.Group;

/// <summary>
/// Two coordinators on one PostgreSQL database, real etcd, real agent processes: the active coordinator dies or
/// freezes in the middle of `certfleet renew --all`, and the standby finishes the same rollout without doing any of
/// its work twice; a frozen coordinator that wakes up after losing the lease writes nothing.
/// </summary>
[Collection(LoopbackFleetCollection.Name)]
public sealed class CoordinatorFailoverTests(ITestOutputHelper output)
{
    /// <summary>Steps done before the failover: the installs and the first restarts, so some of each side's work is checked.</summary>
    private const int StepsBeforeFailover = 3;

    private static readonly TimeSpan MidRolloutWithin = TimeSpan.FromSeconds(60);

    /// <summary>Agents leave a coordinator that stopped answering within ~20 s (keepalive), then the rest runs.</summary>
    private static readonly TimeSpan CompletesWithin = TimeSpan.FromMinutes(3);

    /// <summary>
    /// Both failovers on one fleet, one after the other (a fleet's start is a minute of the test run's 2 cores): the
    /// active coordinator is SIGKILLed in the middle of one rollout, comes back as the standby, and the new active one
    /// is SIGSTOPped past its lease in the middle of the next.
    /// </summary>
    [Fact]
    public async Task RenewAll_ActiveKilledThenActivePausedPastItsLease_StandbyCompletesEachRolloutOnceAndTheWokenOneWritesNothing()
    {
        await using var fleet = await LoopbackFleet.StartGroupAsync();
        try
        {
            var database = new GroupDatabase(fleet);
            var killed = await SigkillMidRolloutAsync(fleet, database);
            // back as the standby: the other holds the lease now
            await fleet.RestartAsync(killed);
            await PauseMidRolloutAsync(fleet, database);
        }
        catch (Exception) when (DumpLogs(fleet))
        {
            throw;
        }
    }

    /// <summary>SIGKILL of the active coordinator mid-rollout: the standby completes it, each certificate renewed once. Returns the killed one.</summary>
    private async Task<string> SigkillMidRolloutAsync(LoopbackFleet fleet, GroupDatabase database)
    {
        var active = fleet.ActiveCoordinator() ?? throw new InvalidOperationException("no coordinator says it is active");
        var startedAt = DateTimeOffset.UtcNow;
        var (follower, id) = await RenewAllAndWaitAsync(fleet, database);
        var (done, total) = await database.WaitMidRolloutAsync(id, StepsBeforeFailover, MidRolloutWithin);

        var killedAt = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        fleet.Kill(active);
        var resent = await database.RunningRestartsAsync(id);
        var standby = await fleet.WaitForActiveAsync(TimeSpan.FromSeconds(30), not: active);
        var tookOver = clock.Elapsed;
        await database.WaitCompletedAsync(id, CompletesWithin);
        var firstStep = await database.FirstStepStartedAfterAsync(id, killedAt);
        Report($"SIGKILL of {active} after {done}/{total} steps: {standby} active after {tookOver.TotalSeconds:0.0} s, "
            + $"its first step started {((firstStep ?? killedAt) - killedAt).TotalSeconds:0.0} s after the kill, rollout completed {clock.Elapsed.TotalSeconds:0.0} s after it; "
            + $"restarts under way at the kill: {(resent.Count == 0 ? "none" : string.Join(", ", resent))}");

        await FollowedToTheEndAsync(follower, id);
        var shown = fleet.Cli("rollout", "show", id);
        Assert.True(shown.ExitCode == 0 && shown.StandardOutput.Contains("completed", StringComparison.Ordinal), $"`certfleet rollout show {id}` through the group: {shown.Combined}");
        await RenewedOnce.AssertAsync(fleet, database, id, startedAt, resent);
        return active;
    }

    /// <summary>SIGSTOP of the active coordinator past its lease mid-rollout: the standby completes it; woken, the first writes nothing.</summary>
    private async Task PauseMidRolloutAsync(LoopbackFleet fleet, GroupDatabase database)
    {
        var paused = fleet.ActiveCoordinator() ?? throw new InvalidOperationException("no coordinator says it is active");
        var startedAt = DateTimeOffset.UtcNow;
        var (follower, id) = await RenewAllAndWaitAsync(fleet, database);
        var (done, total) = await database.WaitMidRolloutAsync(id, StepsBeforeFailover, MidRolloutWithin);

        fleet.Pause(paused);
        var pausedAt = DateTimeOffset.UtcNow;
        var resent = await database.RunningRestartsAsync(id);
        var expiry = await database.LeaseExpiryAsync(); // renewed no more: the lease ends here
        var standby = await fleet.WaitForActiveAsync(LoopbackFleet.LeaseDuration + TimeSpan.FromSeconds(30), not: paused);
        var tookOver = DateTimeOffset.UtcNow;
        Report($"SIGSTOP of {paused} after {done}/{total} steps: lease expired {(expiry - pausedAt).TotalSeconds:0.0} s after the pause, "
            + $"{standby} active {(tookOver - expiry).TotalSeconds:0.0} s after the expiry ({(tookOver - pausedAt).TotalSeconds:0.0} s after the pause)");
        Assert.True(tookOver - expiry < TimeSpan.FromSeconds(15), $"{standby} took over {(tookOver - expiry).TotalSeconds:0.0} s after the lease expired");

        await database.WaitCompletedAsync(id, CompletesWithin);
        await FollowedToTheEndAsync(follower, id);
        var before = await database.WorkSnapshotAsync();
        fleet.Resume(paused);
        var wokenAt = Stopwatch.StartNew();
        await LoopbackFleet.WaitUntil(() => fleet.LogOf(paused).Contains("stepped down to standby", StringComparison.Ordinal),
            TimeSpan.FromSeconds(30), $"{paused} to log that it stepped down");
        var quiet = 3 * LoopbackFleet.LeaseDuration - wokenAt.Elapsed;
        await Task.Delay(quiet > TimeSpan.Zero ? quiet : TimeSpan.Zero);
        Assert.Equal(before, await database.WorkSnapshotAsync());
        Assert.False(fleet.SaysActive(paused), $"{paused}'s certfleet_coordinator_active after it woke up");
        Assert.True(fleet.SaysActive(standby), $"{standby}'s certfleet_coordinator_active after {paused} woke up");
        Report($"{paused} woke up, stepped down, and wrote no step and no audit record in {wokenAt.Elapsed.TotalSeconds:0.0} s");
        await RenewedOnce.AssertAsync(fleet, database, id, startedAt, resent);
    }

    /// <summary>`certfleet renew --all --wait` through the group's admin.conf, as an operator runs it; the rollout it started.</summary>
    private static async Task<(Task<ProcessResult> Follower, string Id)> RenewAllAndWaitAsync(LoopbackFleet fleet, GroupDatabase database)
    {
        var follower = Task.Run(() => fleet.Cli("renew", "--all", "--wait"));
        var id = await database.WaitRunningRolloutAsync(MidRolloutWithin);
        return (follower, id);
    }

    /// <summary>The `renew --wait` that started the rollout lost its coordinator, followed the rollout on and saw it complete.</summary>
    private static async Task FollowedToTheEndAsync(Task<ProcessResult> follower, string id)
    {
        // keepalive finds a frozen coordinator within 20 s, then the watch is opened again
        var result = await follower.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(result.ExitCode == 0 && result.StandardOutput.Contains($"Rollout {id} completed", StringComparison.Ordinal)
            && result.StandardError.Contains("lost the coordinator", StringComparison.Ordinal),
            $"`certfleet renew --all --wait` across the failover: {result.Combined}");
    }

    private void Report(string line)
    {
        output.WriteLine(line);
        Console.WriteLine($"failover: {line}");
    }

    private static bool DumpLogs(LoopbackFleet fleet)
    {
        Console.Error.WriteLine(fleet.LogTails(60));
        return false;
    }
}
