using System.Globalization;
using CertFleet.Coordinator.Audit;
using CertFleet.Coordinator.Fleet;
using CertFleet.Coordinator.Rollouts;
using CertFleet.Coordinator.State;
using CertFleet.Coordinator.Tests.Support;
using CertFleet.Protocol.V1;
using CertFleet.Testing;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Logging.Abstractions;

namespace CertFleet.Coordinator.Tests.State;

/// <summary>
/// A state dir made by the last release without schema versions (tests/fixtures/state/unversioned-a6bfb3d.sql: the
/// demo's fleet, tokens, a removed node, a completed and a halted rollout, the audit trail), opened by today's code.
/// The coordinator is on 127.0.58.1.
/// </summary>
public sealed class UnversionedStateTests : IDisposable
{
    // the columns that release kept as Unix milliseconds; every other value must come through unchanged
    private static readonly HashSet<string> MillisecondColumns =
    [
        "nodes.enrolled_at", "nodes.last_seen", "nodes.last_report",
        "enrollment_tokens.created_at", "enrollment_tokens.expires_at", "enrollment_tokens.used_at",
        "rollouts.created_at", "rollouts.finished_at", "rollout_steps.started_at", "rollout_steps.finished_at",
    ];

    private readonly string _scratch = ScratchDirectory.Create("unversioned");
    private readonly string _state;
    private readonly Dictionary<string, (string[] Columns, List<object?[]> Rows)> _before;

    public UnversionedStateTests()
    {
        _state = StateFiles.StateDirectoryFrom(_scratch, File.ReadAllText(StateFiles.Fixture("unversioned-a6bfb3d.sql")));
        _before = StateFiles.Tables(StatePath);
    }

    private string StatePath => Path.Combine(_state, "state.db");

    public void Dispose() => ScratchDirectory.Delete(_scratch);

    [Fact]
    public void Open_UnversionedRelease_EveryRowKeptEveryTimeTheSame()
    {
        var database = new StateDatabase(_state);

        Assert.Equal(StateSchema.Migrations.Select(m => m.Version), database.Migrated.Select(m => m.Version));
        Assert.Equal(StateSchema.Latest, StateFiles.Scalar(StatePath, "PRAGMA user_version"));
        var after = StateFiles.Tables(StatePath);
        // the tables of the coordinator group came with version 3, empty until a coordinator runs on the database
        Assert.Equal(_before.Keys.Concat(["authority_certificates", "coordinator_group", "coordinator_lease", "coordinators"]).Order(StringComparer.Ordinal),
            after.Keys.Order(StringComparer.Ordinal));
        Assert.All(after.Keys.Except(_before.Keys), table => Assert.Empty(after[table].Rows));
        foreach (var (table, (columns, rows)) in _before)
        {
            // version 3 added where each node's agent is connected, at the end, empty until one connects
            Assert.Equal(table == "nodes" ? [.. columns, "connected_to"] : columns, after[table].Columns);
            Assert.True(rows.Count == after[table].Rows.Count, $"{table}: {rows.Count} rows before, {after[table].Rows.Count} after");
            for (var r = 0; r < rows.Count; r++)
            {
                for (var c = 0; c < columns.Length; c++)
                {
                    var (old, now) = (rows[r][c], after[table].Rows[r][c]);
                    if (MillisecondColumns.Contains($"{table}.{columns[c]}") && old is long milliseconds)
                    {
                        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(milliseconds), StateTime.FromText((string)now!));
                    }
                    else
                    {
                        Assert.True(Equals(old, now) || (old is byte[] a && now is byte[] b && a.SequenceEqual(b)), $"{table} row {r} {columns[c]}: {old} became {now}");
                    }
                }
            }
        }
        Assert.Equal(0, StateFiles.Scalar(StatePath, "SELECT COUNT(*) FROM pragma_foreign_key_check"));
        using var connection = StateFiles.Raw(StatePath);
        Assert.Equal(["rollouts"], StateFiles.Strings(connection, "SELECT \"table\" FROM pragma_foreign_key_list('rollout_steps')"));
    }

    [Fact]
    public void Open_UnversionedRelease_StoresReadWhatThatReleaseWrote()
    {
        var database = new StateDatabase(_state);

        var nodes = new NodeStore(database, TimeProvider.System).All();
        Assert.Equal(["master-1", "master-2", "master-3", "worker-1", "worker-2", "worker-5"], nodes.Select(n => n.Name));
        foreach (var node in nodes)
        {
            var row = Row("nodes", "name", node.Name);
            Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds((long)row["enrolled_at"]!), node.EnrolledAt);
            Assert.Equal(Time(row["last_seen"]), node.LastSeen);
            Assert.Equal(Time(row["last_report"]), node.LastReport);
        }
        Assert.Equal(17, nodes.Single(n => n.Name == "master-1").Inventory!.Certificates.Count);
        Assert.Contains("20001 certificates", nodes.Single(n => n.Name == "worker-1").ReportRefusal, StringComparison.Ordinal);
        var neverConnected = nodes.Single(n => n.Name == "worker-5");
        Assert.Equal((null, null, "7A11F00D0000"), (neverConnected.LastSeen, neverConnected.Inventory, neverConnected.PreviousSerial));

        var rollouts = new RolloutStore(database).List();
        Assert.Equal(["r-20261206-170124-5de3", "r-20261206-165956-419a"], rollouts.Select(r => r.Id));
        foreach (var rollout in rollouts)
        {
            var row = Row("rollouts", "id", rollout.Id);
            Assert.Equal(Timestamp((long)row["created_at"]!), rollout.CreatedAt);
            Assert.Equal(row["finished_at"] is long finished ? Timestamp(finished) : null, rollout.FinishedAt);
            Assert.Equal(Rows("rollout_steps", "rollout_id", rollout.Id).Select(s => (Time(s["started_at"]), Time(s["finished_at"]))),
                rollout.Steps.Select(s => (s.StartedAt?.ToDateTimeOffset(), s.FinishedAt?.ToDateTimeOffset())));
        }
        Assert.Equal([3, 31], rollouts.Select(r => r.Steps.Count));
        Assert.Equal("master-1 etcd.service: health gate failed: connection refused", rollouts[0].HaltReason);
        Assert.Equal("not issued by a coordinator CA", Assert.Single(rollouts[0].Refused).Reason);

        using var audit = new AuditLog(database, TimeProvider.System, NullLogger<AuditLog>.Instance);
        var events = audit.Read(null, null);
        Assert.Equal(88, events.Count);
        Assert.Equal(_before["audit"].Rows.Select(r => (Legacy((string)r[1]!), r[8] is string notAfter ? Legacy(notAfter) : (DateTimeOffset?)null)),
            events.Select(e => (e.Time.ToDateTimeOffset(), e.NotAfter?.ToDateTimeOffset())));
        Assert.Equal(55, events.Count(e => e.NotAfter is not null));
    }

    [Fact]
    public async Task Coordinator_UnversionedRelease_StatusAuditAndRolloutsAsBeforeAndItKeepsWorking()
    {
        await using var coordinator = await TestCoordinator.StartAsync("127.0.58.1:7443", _state);
        var admin = coordinator.Admin();

        var status = await admin.GetStatusAsync(new StatusRequest(), deadline: Deadline());
        var audit = await admin.AuditAsync(new AuditRequest(), deadline: Deadline());
        var rollouts = await admin.ListRolloutsAsync(new ListRolloutsRequest(), deadline: Deadline());

        Assert.Equal(["master-1", "master-2", "master-3", "worker-1", "worker-2", "worker-5"], status.Nodes.Select(n => n.Name));
        Assert.Equal(Timestamp((long)Row("nodes", "name", "master-2")["last_report"]!), status.Nodes[1].LastReport);
        Assert.Equal(17, status.Nodes[0].Certificates.Count);
        Assert.Null(status.Nodes[5].LastReport);
        Assert.Equal(88, audit.Events.Count);
        Assert.Equal(Legacy((string)_before["audit"].Rows[0][1]!), audit.Events[0].Time.ToDateTimeOffset());
        Assert.Equal([AuditKinds.TokenCreated, AuditKinds.TokenCreated, AuditKinds.NodeRemoved], audit.Events.TakeLast(3).Select(e => e.Kind));
        Assert.Equal(["r-20261206-170124-5de3", "r-20261206-165956-419a"], rollouts.Rollouts.Select(r => r.Id));
        Assert.Equal(Timestamp((long)Row("rollouts", "id", "r-20261206-165956-419a")["finished_at"]!), rollouts.Rollouts[1].FinishedAt);
        Assert.Equal(31, rollouts.Rollouts[1].Steps.Count);

        // and it writes on the migrated tables: a token, and the halted rollout aborted
        await admin.CreateTokenAsync(new CreateTokenRequest { Node = "worker-6" }, deadline: Deadline());
        var aborted = await admin.AbortRolloutAsync(new RolloutId { Id = "r-20261206-170124-5de3" }, deadline: Deadline());
        var auditAfter = await admin.AuditAsync(new AuditRequest(), deadline: Deadline());

        Assert.NotNull(aborted.FinishedAt);
        Assert.Equal(1, StateFiles.Scalar(StatePath, "SELECT COUNT(*) FROM enrollment_tokens WHERE node = 'worker-6'"));
        Assert.Contains(auditAfter.Events.Skip(88), e => e.Kind == AuditKinds.TokenCreated && e.Node == "worker-6");
        Assert.True(auditAfter.Events[^1].Time.ToDateTimeOffset() > audit.Events[^1].Time.ToDateTimeOffset());
    }

    /// <summary>The first row of <paramref name="table"/> before migration whose <paramref name="column"/> is <paramref name="value"/>.</summary>
    private Dictionary<string, object?> Row(string table, string column, string value) => Rows(table, column, value).First();

    private IEnumerable<Dictionary<string, object?>> Rows(string table, string column, string value)
    {
        var (columns, rows) = _before[table];
        var index = Array.IndexOf(columns, column);
        return rows.Where(r => (string)r[index]! == value)
            .Select(r => columns.Select((name, i) => (name, r[i])).ToDictionary(p => p.name, p => p.Item2, StringComparer.Ordinal));
    }

    private static DateTimeOffset? Time(object? milliseconds) =>
        milliseconds is long value ? DateTimeOffset.FromUnixTimeMilliseconds(value) : null;

    private static Timestamp Timestamp(long milliseconds) =>
        Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(milliseconds));

    /// <summary>An audit time as that release read it.</summary>
    private static DateTimeOffset Legacy(string text) =>
        DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    private static DateTime Deadline() => DateTime.UtcNow.AddSeconds(30);
}
