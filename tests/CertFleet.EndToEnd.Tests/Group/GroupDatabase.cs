using System.Diagnostics;
using System.Globalization;

namespace CertFleet.EndToEnd.Tests.Group;

/// <summary>
/// A rollout as the group's PostgreSQL database holds it, read with psql: no coordinator is asked, so the reads work
/// whichever coordinator is paused or dead, and cost a few milliseconds instead of a CLI start.
/// </summary>
internal sealed class GroupDatabase(LoopbackFleet fleet)
{
    // each read is a psql process: often enough to see the middle of a rollout, not a CPU cost of its own
    private static readonly TimeSpan PollEvery = TimeSpan.FromMilliseconds(250);

    /// <summary>How many of the rollout's steps succeeded, and how many it has.</summary>
    public async Task<(int Succeeded, int Total)> StepCountsAsync(string rollout)
    {
        var row = (await fleet.PsqlAsync($"SELECT count(*) FILTER (WHERE state = 'succeeded'), count(*) FROM rollout_steps WHERE rollout_id = {Text(rollout)};")).Trim().Split('|');
        return (int.Parse(row[0], CultureInfo.InvariantCulture), int.Parse(row[1], CultureInfo.InvariantCulture));
    }

    /// <summary>The id of the rollout that runs, once one does (started by a `certfleet renew --wait` that is still following it).</summary>
    public async Task<string> WaitRunningRolloutAsync(TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var id = (await fleet.PsqlAsync("SELECT id FROM rollouts WHERE state = 'running';")).Trim();
            if (id.Length > 0)
            {
                return id;
            }
            Assert.True(clock.Elapsed < limit, $"no rollout ran within {limit.TotalSeconds:0} s of `certfleet renew --all --wait`");
            await Task.Delay(PollEvery);
        }
    }

    /// <summary>Waits until at least <paramref name="succeeded"/> steps succeeded while at least two are still to run: mid-rollout.</summary>
    public async Task<(int Succeeded, int Total)> WaitMidRolloutAsync(string rollout, int succeeded, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var counts = await StepCountsAsync(rollout);
            if (counts.Succeeded >= succeeded && counts.Total > 0)
            {
                Assert.True(counts.Total - counts.Succeeded >= 2, $"rollout {rollout} ran past the middle before the test saw it: {counts.Succeeded}/{counts.Total} steps succeeded");
                return counts;
            }
            Assert.True(clock.Elapsed < limit, $"rollout {rollout} had {counts.Succeeded}/{counts.Total} steps succeeded after {limit.TotalSeconds:0} s");
            await Task.Delay(PollEvery);
        }
    }

    /// <summary>Waits until the rollout completed; fails at once when it halts or is aborted (a failover must not stop it).</summary>
    public async Task WaitCompletedAsync(string rollout, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var row = (await fleet.PsqlAsync($"SELECT state, halt_reason FROM rollouts WHERE id = {Text(rollout)};")).Trim();
            var state = row.Split('|')[0];
            if (state == "completed")
            {
                return;
            }
            Assert.True(state is "running" or "pending", $"rollout {rollout} is {row}, not running on to completion");
            Assert.True(clock.Elapsed < limit, $"rollout {rollout} did not complete within {limit.TotalSeconds:0} s: {await StepCountsAsync(rollout)}");
            await Task.Delay(PollEvery);
        }
    }

    /// <summary>"node unit" of each restart step of the rollout that is running now (read right after a failover began).</summary>
    public async Task<IReadOnlySet<string>> RunningRestartsAsync(string rollout) =>
        (await RowsAsync($"SELECT node, unit FROM rollout_steps WHERE rollout_id = {Text(rollout)} AND kind = 'restart' AND state = 'running';"))
            .Select(r => RestartName(r[0], r[1])).ToHashSet(StringComparer.Ordinal);

    /// <summary>A restart as the unit script logs it: "node unit", without ".service".</summary>
    public static string RestartName(string node, string unit) => $"{node} {unit.Replace(".service", "", StringComparison.Ordinal)}";

    /// <summary>When the first step of the rollout started after <paramref name="after"/> (the moment of a kill), or null.</summary>
    public async Task<DateTimeOffset?> FirstStepStartedAfterAsync(string rollout, DateTimeOffset after)
    {
        var text = (await fleet.PsqlAsync($"SELECT min(started_at) FROM rollout_steps WHERE rollout_id = {Text(rollout)} AND started_at > {Text(Time(after))};")).Trim();
        return text.Length == 0 ? null : ParseTime(text);
    }

    /// <summary>When the group's lease runs out unless renewed, by the database's record.</summary>
    public async Task<DateTimeOffset> LeaseExpiryAsync() =>
        ParseTime((await fleet.PsqlAsync("SELECT expires_at FROM coordinator_lease WHERE name = 'active';")).Trim());

    /// <summary>Everything a coordinator writes about the fleet's work: the audit's extent, every step and rollout row.</summary>
    public async Task<string> WorkSnapshotAsync() =>
        await fleet.PsqlAsync("SELECT max(sequence), count(*) FROM audit;")
        + await fleet.PsqlAsync("SELECT * FROM rollout_steps ORDER BY rollout_id, sequence;")
        + await fleet.PsqlAsync("SELECT id, state, finished_at, halt_reason FROM rollouts ORDER BY id;");

    /// <summary>Rows of <paramref name="sql"/> as arrays of columns.</summary>
    public async Task<List<string[]>> RowsAsync(string sql) =>
        [.. (await fleet.PsqlAsync(sql)).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split('|'))];

    /// <summary>A value as an SQL string literal.</summary>
    public static string Text(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary>The state's time format (UTC, 7 fractional digits), which sorts as text.</summary>
    public static string Time(DateTimeOffset moment) => moment.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    public static DateTimeOffset ParseTime(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
}
