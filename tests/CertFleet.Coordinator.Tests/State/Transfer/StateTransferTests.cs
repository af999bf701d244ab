using CertFleet.Coordinator.Audit;
using CertFleet.Coordinator.Enrollment;
using CertFleet.Coordinator.Fleet;
using CertFleet.Coordinator.Rollouts;
using CertFleet.Coordinator.State;
using CertFleet.Coordinator.State.Transfer;
using CertFleet.Coordinator.Tests.State.Postgres;
using CertFleet.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace CertFleet.Coordinator.Tests.State.Transfer;

/// <summary>
/// A coordinator's SQLite state copied into a PostgreSQL database on a private server, then read back through the
/// stores there as a coordinator started with --database reads it.
/// </summary>
public sealed class StateTransferTests(PostgresServerFixture postgres) : IClassFixture<PostgresServerFixture>, IDisposable
{
    private readonly string _scratch = ScratchDirectory.Create("transfer");

    public void Dispose() => ScratchDirectory.Delete(_scratch);

    [Fact]
    public async Task Copy_StoppedCoordinatorsState_EveryStoreReadsTheSameOnPostgres()
    {
        var state = CoordinatorState.Make(Path.Combine(_scratch, "state"));
        using var source = new StateDatabase(state.Directory);
        using var target = await PostgresDatabases.CreateAsync(postgres.Server, "transfer");

        var copied = StateTransfer.Copy(source, target);

        Assert.Empty(StateTransfer.Differences(source, target));
        Assert.Equal([("nodes", 2L), ("enrollment_tokens", 2L), ("rollouts", 1L), ("rollout_steps", 2L), ("rollout_targets", 2L),
            ("rollout_certificates", 1L), ("audit", 4L), ("coordinator_group", 1L), ("authority_certificates", 1L)], copied);
        Assert.Equal(StateTransfer.Count(source), StateTransfer.Count(target));

        var nodes = new NodeStore(target, TimeProvider.System).All();
        Assert.Equal(new NodeStore(source, TimeProvider.System).All(), nodes);
        Assert.Equal(["/etc/kubernetes/pki/apiserver.crt", "/etc/kubernetes/pki/ca.crt"], nodes[0].Inventory!.Certificates.Select(c => c.Path));
        Assert.Equal(("0B02", "0B01"), (nodes[1].IdentitySerial, nodes[1].PreviousSerial));
        Assert.Contains("20001 certificates", nodes[1].ReportRefusal, StringComparison.Ordinal);

        var tokens = new TokenStore(target, TimeProvider.System);
        Assert.True(tokens.IsRedeemable(state.UnusedToken));
        Assert.False(tokens.IsRedeemable(state.UsedToken));

        var rollouts = new RolloutStore(target);
        var rollout = Assert.Single(rollouts.List());
        Assert.Equal(Assert.Single(new RolloutStore(source).List()), rollout);
        Assert.Equal(2, rollout.Steps.Count);
        Assert.Equal("not issued by a coordinator CA", Assert.Single(rollout.Refused).Reason);
        Assert.Equal([new RolloutTarget("master-1", "AA11"), new RolloutTarget("worker-1", "BB22")], rollouts.Targets(state.RolloutId));
        Assert.Equal(new byte[] { 0x30, 0x82, 0x01, 0x00, 0xff }, rollouts.RenewedCertificate(state.RolloutId, "AA11"));

        using var sourceAudit = new AuditLog(source, TimeProvider.System, NullLogger<AuditLog>.Instance);
        using var audit = new AuditLog(target, TimeProvider.System, NullLogger<AuditLog>.Instance);
        var events = audit.Read(null, null);
        Assert.Equal(sourceAudit.Read(null, null), events);
        Assert.Equal([1L, 2L, 3L, 4L], events.Select(e => e.Sequence));
        Assert.Equal(state.RolloutId, events[2].RolloutId);
    }

    [Fact]
    public async Task Copy_ThenAppendOnPostgres_TheNewRecordGetsTheNextSequenceAfterTheCopiedOnes()
    {
        var state = CoordinatorState.Make(Path.Combine(_scratch, "state"));
        using var source = new StateDatabase(state.Directory);
        using var target = await PostgresDatabases.CreateAsync(postgres.Server, "transfer");
        StateTransfer.Copy(source, target);
        using var audit = new AuditLog(target, TimeProvider.System, NullLogger<AuditLog>.Instance);

        audit.NodeRemoved("master-1", detail: "after the move");

        Assert.Equal(5, audit.LastSequence());
        Assert.Equal(("master-1", "after the move"), (audit.Read(null, null)[^1].Node, audit.Read(null, null)[^1].Detail));
    }

    [Fact]
    public async Task Copy_UnversionedReleasesState_MigratedThenEveryRowCopied()
    {
        var directory = StateFiles.StateDirectoryFrom(_scratch, File.ReadAllText(StateFiles.Fixture("unversioned-a6bfb3d.sql")));
        using var source = new StateDatabase(directory);
        using var target = await PostgresDatabases.CreateAsync(postgres.Server, "transfer");

        var copied = StateTransfer.Copy(source, target);

        Assert.Empty(StateTransfer.Differences(source, target));
        Assert.Equal(88, copied.Single(t => t.Table == "audit").Rows);
        Assert.Equal(new NodeStore(source, TimeProvider.System).All(), new NodeStore(target, TimeProvider.System).All());
        Assert.Equal(new RolloutStore(source).List(), new RolloutStore(target).List());
        using var audit = new AuditLog(target, TimeProvider.System, NullLogger<AuditLog>.Instance);
        var last = audit.LastSequence();
        audit.NodeRemoved("worker-2");
        Assert.Equal(last + 1, audit.LastSequence());
    }

    [Fact]
    public async Task Copy_TargetHoldsState_RefusedNamingWhatItHoldsAndWritesNothing()
    {
        var state = CoordinatorState.Make(Path.Combine(_scratch, "state"));
        using var source = new StateDatabase(state.Directory);
        using var target = await PostgresDatabases.CreateAsync(postgres.Server, "transfer");
        new NodeStore(target, TimeProvider.System).Enroll("other-1", NodeRole.Worker, "01");

        var refused = Assert.Throws<StateSchemaException>(() => StateTransfer.Copy(source, target));

        Assert.Contains($"{target.Path} already holds state (1 nodes)", refused.Message, StringComparison.Ordinal);
        Assert.Contains("nothing was written", refused.Message, StringComparison.Ordinal);
        Assert.Equal(["other-1"], new NodeStore(target, TimeProvider.System).All().Select(n => n.Name));
        Assert.All(StateTransfer.Count(target).Where(t => t.Table != "nodes"), t => Assert.Equal(0, t.Rows));
    }

    [Fact]
    public async Task Differences_ARowChangedInTheCopy_NamesTheTable()
    {
        var state = CoordinatorState.Make(Path.Combine(_scratch, "state"));
        using var source = new StateDatabase(state.Directory);
        using var target = await PostgresDatabases.CreateAsync(postgres.Server, "transfer");
        StateTransfer.Copy(source, target);
        await postgres.Server.RunPsqlAsync(DatabaseName(target), "UPDATE nodes SET report_refusal = 'edited' WHERE name = 'worker-1';");

        var differences = StateTransfer.Differences(source, target);

        Assert.StartsWith("nodes: the row 'worker-1 worker ", Assert.Single(differences), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Differences_ServerCollatesTextOtherwiseThanSqlite_NoDifference()
    {
        // SQLite orders 'B' before 'a' (bytes); a server whose databases collate as en-US the other way round
        var directory = Path.Combine(_scratch, "state");
        Directory.CreateDirectory(directory);
        using var source = new StateDatabase(directory);
        var sourceNodes = new NodeStore(source, TimeProvider.System);
        sourceNodes.Enroll("a-node", NodeRole.Worker, "01");
        sourceNodes.Enroll("B-node", NodeRole.Worker, "02");
        var name = $"collated_{Environment.ProcessId}";
        await postgres.Server.RunPsqlAsync("postgres",
            $"CREATE DATABASE {name} TEMPLATE template0 LOCALE 'C' LOCALE_PROVIDER icu ICU_LOCALE 'en-US';");
        using var target = PostgresDatabases.Open(postgres.Server, postgres.Server.ConnectionUrl(name));
        StateTransfer.Copy(source, target);

        Assert.Equal("a-node", await postgres.Server.RunPsqlAsync(name, "SELECT name FROM nodes ORDER BY name LIMIT 1;") is var first ? first.Trim() : null);
        Assert.Empty(StateTransfer.Differences(source, target));
    }

    private static string DatabaseName(StateDatabase database) => database.Path[(database.Path.LastIndexOf('/') + 1)..];
}
