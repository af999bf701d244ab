using CertFleet.Coordinator.Rollouts;
using CertFleet.Coordinator.State;
using CertFleet.Coordinator.Tests.State;
using CertFleet.Protocol.V1;
using Google.Protobuf.WellKnownTypes;

namespace CertFleet.Coordinator.Tests.Rollouts;

/// <summary>
/// The rollout store on each engine (RolloutStoreOnSqliteTests, RolloutStoreOnPostgresTests). It keeps states and
/// kinds as the words in its text columns, as the release before the enums did.
/// </summary>
public abstract class RolloutStoreTests(StateEngineUnderTest engine) : StateStoreTests(engine)
{
    private RolloutStore Store => new(Database);

    [Fact]
    public void CreateAndTransition_EnumStates_ColumnsHoldTheWords()
    {
        var rollout = NewRollout("r-1");
        rollout.Steps.Add(new RolloutStep { Sequence = 1, Batch = 1, Kind = StepKind.RenewCa, State = StepState.Succeeded });
        rollout.Steps.Add(new RolloutStep { Sequence = 2, Batch = 2, Kind = StepKind.Install, Node = "master-1", State = StepState.RolledBack });
        rollout.Steps.Add(new RolloutStep { Sequence = 3, Batch = 3, Kind = StepKind.Restart, Node = "master-1", Unit = "etcd.service", State = StepState.Pending });
        Store.Create(rollout, []);
        var rollback = new RolloutStep { Sequence = 4, Batch = 3, Kind = StepKind.Rollback, Node = "master-1", State = StepState.Failed };

        Assert.True(Store.Transition("r-1", [RolloutState.Running], RolloutState.RolledBack, "", null, rollback));

        Assert.Equal(["rolled-back"], Column("SELECT state FROM rollouts"));
        Assert.Equal(["renew-ca succeeded", "install rolled-back", "restart pending", "rollback failed"],
            Column("SELECT kind || ' ' || state FROM rollout_steps ORDER BY sequence"));
    }

    [Fact]
    public void Find_RowsAsTheReleaseBeforeWroteThem_EveryWordReadAsItsValue()
    {
        Store.Create(NewRollout("r-old"), []);
        Execute("UPDATE rollouts SET state = 'halted'");
        var rows = new[] { ("renew-ca", "succeeded"), ("install", "rolled-back"), ("restart", "failed"), ("rollback", "running"), ("install", "pending"), ("restart", "skipped") };
        for (var i = 0; i < rows.Length; i++)
        {
            Execute($"INSERT INTO rollout_steps VALUES ('r-old', {i + 1}, 1, '{rows[i].Item1}', 'master-1', '', '{rows[i].Item2}', '', '', NULL, NULL)");
        }

        var rollout = Store.Find("r-old")!;

        Assert.Equal(RolloutState.Halted, rollout.State);
        Assert.Equal(
            [(StepKind.RenewCa, StepState.Succeeded), (StepKind.Install, StepState.RolledBack), (StepKind.Restart, StepState.Failed),
             (StepKind.Rollback, StepState.Running), (StepKind.Install, StepState.Pending), (StepKind.Restart, StepState.Skipped)],
            rollout.Steps.Select(s => (s.Kind, s.State)));
        Assert.Equal("r-old", Store.FindUnfinished()?.Id); // found by its word, 'halted'
    }

    [Fact]
    public async Task AddRefused_TwoCoordinatorsAtOnce_EveryRefusalKept()
    {
        Store.Create(NewRollout("r-1"), []);
        RolloutStore first = Store, second = new(Engine.OpenAgain(Database));
        const int Each = 10;

        await AtOnce(
            () => AddRefusals(first, "master-1", Each),
            () => AddRefusals(second, "master-2", Each));

        var refused = Store.Find("r-1")!.Refused;
        Assert.Equal(2 * Each, refused.Count);
        Assert.Equal(Each, refused.Count(r => r.Node == "master-1"));
    }

    [Fact]
    public void SaveSteps_ProbeOutputWithControlCharacters_ReadBackExactly()
    {
        Store.Create(NewRollout("r-1"), []);
        // what a probe printed is the node's: colours, carriage returns, other controls
        var output = "etcdctl endpoint health\r\n\u001b[32mhealthy\u001b[0m: 127.0.0.1:2379 ✓\u0001\u007f";
        var step = new RolloutStep { Sequence = 1, Batch = 1, Kind = StepKind.Restart, Node = "master-1", Unit = "etcd.service", State = StepState.Succeeded, ProbeOutput = output, Message = "bereit ✓" };

        Store.SaveSteps("r-1", step);

        Assert.Equal(step, Assert.Single(Store.Find("r-1")!.Steps));
    }

    [Fact]
    public void SaveStepsAndTransition_TextWithNul_ReadBackWithTheNulSymbolInItsPlace()
    {
        Store.Create(NewRollout("r-1"), []);
        var step = new RolloutStep { Sequence = 1, Batch = 1, Kind = StepKind.Restart, Node = "master-1", State = StepState.Failed, ProbeOutput = "\0\0binary", Message = "probe: a\0b" };

        Store.SaveSteps("r-1", step);
        Store.Transition("r-1", [RolloutState.Running], RolloutState.Halted, "master-1: probe: a\0b", null);

        var rollout = Store.Find("r-1")!;
        Assert.Equal(("\u2400\u2400binary", "probe: a\u2400b"), (rollout.Steps[0].ProbeOutput, rollout.Steps[0].Message));
        Assert.Equal("master-1: probe: a\u2400b", rollout.HaltReason);
    }

    private static Rollout NewRollout(string id) =>
        new() { Id = id, State = RolloutState.Running, CreatedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UnixEpoch), Request = new() };

    private static int AddRefusals(RolloutStore store, string node, int count)
    {
        for (var i = 0; i < count; i++)
        {
            store.AddRefused("r-1", new RefusedCertificate { Node = node, Path = $"/etc/kubernetes/pki/{i}.crt", Reason = "key too short" });
        }
        return count;
    }

    private List<string> Column(string sql) => Database.Read(sql, row => row.GetString(0));

    private void Execute(string sql)
    {
        using var connection = Database.Open();
        connection.Execute(sql);
    }
}
