using System.Text.RegularExpressions;
using CertFleet.Coordinator.Audit;
using CertFleet.Coordinator.Enrollment;
using CertFleet.Coordinator.Fleet;
using CertFleet.Coordinator.Rollouts;
using CertFleet.Coordinator.State;
using CertFleet.Coordinator.Group;
using CertFleet.Protocol.V1;
using CertFleet.Testing;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace CertFleet.Coordinator.Tests.State;

/// <summary>The state database's versions: made, brought up to date step by step, left alone when current, refused when newer.</summary>
public sealed partial class StateSchemaTests : IDisposable
{
    private readonly string _scratch = ScratchDirectory.Create("schema");

    public void Dispose() => ScratchDirectory.Delete(_scratch);

    [Fact]
    public void Migrations_History_NumberedOneByOneFromOneEachNamed()
    {
        var versions = StateSchema.Migrations.Select(m => m.Version).ToList();

        Assert.Equal(Enumerable.Range(1, versions.Count), versions);
        Assert.Equal(versions.Count, StateSchema.Migrations.Select(m => m.Name).Distinct().Count());
        Assert.All(StateSchema.Migrations, m => Assert.False(string.IsNullOrWhiteSpace(m.Name)));
        Assert.Equal(versions[^1], StateSchema.Latest);
    }

    [Fact]
    public void Open_EmptyStateDir_EveryStepAppliedAndVersionSet()
    {
        var database = new StateDatabase(_scratch);

        Assert.Equal(StateSchema.Migrations, database.Migrated);
        Assert.Equal(StateSchema.Latest, StateFiles.Scalar(database.Path, "PRAGMA user_version"));
        Assert.Equal(0, StateFiles.Scalar(database.Path, "SELECT COUNT(*) FROM pragma_foreign_key_check"));
    }

    [Fact]
    public void Open_AtLatestVersion_AppliesNothingAndWritesNothing()
    {
        var first = new StateDatabase(_scratch);
        new NodeStore(first, TimeProvider.System).Enroll("worker-1", NodeRole.Worker, "01");
        var before = StateFiles.Hash(first.Path);

        var again = new StateDatabase(_scratch);

        Assert.Empty(again.Migrated);
        Assert.Equal(before, StateFiles.Hash(again.Path));
        Assert.Equal("worker-1", Assert.Single(new NodeStore(again, TimeProvider.System).All()).Name);
    }

    [Fact]
    public void Open_NewerVersion_RefusedSayingToUpgradeAndChangesNothing()
    {
        var path = Path.Combine(_scratch, "state.db");
        using (var newer = StateFiles.Raw(path))
        using (var command = newer.CreateCommand())
        {
            // what a later release might have: a table this one does not know, in its own journal mode
            command.CommandText = $"CREATE TABLE leases (holder TEXT); PRAGMA user_version = {StateSchema.Latest + 1};";
            command.ExecuteNonQuery();
        }
        var before = StateFiles.Hash(path);

        var error = Assert.Throws<StateSchemaException>(() => new StateDatabase(_scratch));

        Assert.Contains($"schema version {StateSchema.Latest + 1}", error.Message, StringComparison.Ordinal);
        Assert.Contains($"knows versions up to {StateSchema.Latest}", error.Message, StringComparison.Ordinal);
        Assert.Contains("Upgrade certfleet-coordinator", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, StateFiles.Hash(path));
        Assert.False(File.Exists(path + "-wal"));
    }

    [Fact]
    public void CoordinatorProgram_StateFromANewerRelease_ExitsTwoSayingToUpgradeWithoutATrace()
    {
        var path = Path.Combine(_scratch, "state.db");
        using (var newer = StateFiles.Raw(path))
        using (var command = newer.CreateCommand())
        {
            command.CommandText = $"CREATE TABLE leases (holder TEXT); PRAGMA user_version = {StateSchema.Latest + 1};";
            command.ExecuteNonQuery();
        }
        var before = StateFiles.Hash(path);

        // the real program, as systemd starts it: exit 2 is in the unit's RestartPreventExitStatus
        var run = ProcessRunner.Run("dotnet", [Programs.Dll("certfleet-coordinator"), "--listen", "127.0.58.2:7443", "--state-dir", _scratch,
            "--config", "/dev/null"], timeout: TimeSpan.FromMinutes(1));

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith($"certfleet-coordinator: {path} is at schema version {StateSchema.Latest + 1}", run.StandardError, StringComparison.Ordinal);
        Assert.Contains("Upgrade certfleet-coordinator", run.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Combined, StringComparison.Ordinal);
        Assert.Equal(before, StateFiles.Hash(path));
    }

    [Fact]
    public void Open_StepFails_EarlierStepsKeptAndTheFailedOneLeavesNoTrace()
    {
        // an unversioned database in which step 2 cannot run (the name of the table it builds is taken)
        var state = StateFiles.StateDirectoryFrom(_scratch, """
            CREATE TABLE nodes (name TEXT PRIMARY KEY, role TEXT NOT NULL, enrolled_at INTEGER NOT NULL, last_seen INTEGER,
                last_report INTEGER, inventory BLOB);
            INSERT INTO nodes VALUES ('worker-1', 'worker', 1796576395892, NULL, NULL, NULL);
            CREATE TABLE nodes_v2 (x);
            """);
        var path = Path.Combine(state, "state.db");

        Assert.Throws<SqliteException>(() => new StateDatabase(state));

        Assert.Equal(1, StateFiles.Scalar(path, "PRAGMA user_version"));
        Assert.Equal(1796576395892, StateFiles.Scalar(path, "SELECT enrolled_at FROM nodes"));
        Assert.Equal(1, StateFiles.Scalar(path, "SELECT COUNT(*) FROM pragma_table_info('nodes') WHERE name = 'identity_serial'"));
    }

    [Fact]
    public void Open_NodesFromBeforeIdentitySerials_ColumnsAddedRowKept()
    {
        // the nodes table as 63554a4's parent made it, before identity serials were kept
        var state = StateFiles.StateDirectoryFrom(_scratch, """
            CREATE TABLE nodes (name TEXT PRIMARY KEY, role TEXT NOT NULL, enrolled_at INTEGER NOT NULL, last_seen INTEGER,
                last_report INTEGER, inventory BLOB);
            INSERT INTO nodes VALUES ('master-1', 'master', 1796576395892, 1796576406205, NULL, NULL);
            """);

        var node = Assert.Single(new NodeStore(new StateDatabase(state), TimeProvider.System).All());

        Assert.Equal(("master-1", NodeRole.Master), (node.Name, node.Role));
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1796576395892), node.EnrolledAt);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1796576406205), node.LastSeen);
        Assert.Null(node.IdentitySerial);
        Assert.True(node.MayRenew("0A"), "a node from before serials were kept renews with whatever identity it has");
    }

    [Fact]
    public void Stores_EveryTimeTheyWrite_OneTextFormatExactToTheTick()
    {
        // a time that is not a whole millisecond: Unix milliseconds would have cut it
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 6, 16, 59, 55, TimeSpan.Zero).AddTicks(1_234_567));
        var database = new StateDatabase(_scratch);
        var nodes = new NodeStore(database, time);
        var tokens = new TokenStore(database, time);
        var rollouts = new RolloutStore(database);
        using var audit = new AuditLog(database, time, NullLogger<AuditLog>.Instance);

        var token = tokens.Create("worker-1", NodeRole.Worker, TimeSpan.FromHours(1));
        tokens.Redeem(token.Secret, "worker-1", (connection, role, _) =>
        {
            nodes.Enroll(connection, "worker-1", role, "01", null);
            return 0;
        });
        nodes.SaveReport("worker-1", new InventoryReport());
        var now = Timestamp.FromDateTimeOffset(time.GetUtcNow());
        rollouts.Create(new Rollout
        {
            Id = "r-1", State = RolloutState.Running, CreatedAt = now, Request = new RolloutRequest { All = true },
            Steps = { new RolloutStep { Sequence = 1, Batch = 1, Kind = StepKind.Install, Node = "worker-1", State = StepState.Succeeded, StartedAt = now, FinishedAt = now } },
        }, []);
        rollouts.Transition("r-1", [RolloutState.Running], RolloutState.Completed, "", now);
        audit.Append(new AuditRecord(AuditKinds.Issued, "coordinator") { Node = "worker-1", NotAfter = time.GetUtcNow().AddDays(365) });
        using var lease = new CoordinatorLease(database, "https://127.0.0.1:9443", TimeSpan.FromSeconds(10), NullLogger<CoordinatorLease>.Instance);
        lease.Round(atStart: true);
        new CoordinatorMembers(database, lease).Record();

        var values = TimeValues(database.Path);
        Assert.Equal(["audit.not_after", "audit.time", "coordinator_lease.acquired_at", "coordinator_lease.expires_at",
            "coordinators.last_seen", "coordinators.started_at", "enrollment_tokens.created_at", "enrollment_tokens.expires_at", "enrollment_tokens.used_at",
            "nodes.enrolled_at", "nodes.last_report", "nodes.last_seen", "rollout_steps.finished_at", "rollout_steps.started_at",
            "rollouts.created_at", "rollouts.finished_at"], values.Keys.Order(StringComparer.Ordinal));
        Assert.All(values, v => Assert.Matches(TimeText(), v.Value));
        Assert.Equal("2026-12-06T16:59:55.1234567Z", values["nodes.enrolled_at"]);
        var node = nodes.Find("worker-1")!;
        Assert.Equal(time.GetUtcNow(), node.EnrolledAt);
        Assert.Equal(time.GetUtcNow(), node.LastReport);
        Assert.Equal(now, rollouts.Find("r-1")!.Steps[0].StartedAt);
    }

    /// <summary>Every column that holds a time, by its name or declared type, with one of its values.</summary>
    private static Dictionary<string, string> TimeValues(string path)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (table, (columns, rows)) in StateFiles.Tables(path))
        {
            for (var i = 0; i < columns.Length; i++)
            {
                // a table no store wrote to in the test (renewed CA certificates) has no value to look at
                if ((columns[i] is "time" or "last_seen" or "last_report" or "not_after" || columns[i].EndsWith("_at", StringComparison.Ordinal))
                    && rows.Any(r => r[i] is not null))
                {
                    values[$"{table}.{columns[i]}"] = Convert.ToString(rows.Select(r => r[i]).First(v => v is not null), System.Globalization.CultureInfo.InvariantCulture)!;
                }
            }
        }
        return values;
    }

    [GeneratedRegex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$")]
    private static partial Regex TimeText();
}
