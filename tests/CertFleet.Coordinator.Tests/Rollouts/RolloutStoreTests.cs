using CertFleet.Coordinator.Rollouts;
using CertFleet.Coordinator.State;
using CertFleet.Protocol.V1;
using CertFleet.Testing;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Data.Sqlite;

namespace CertFleet.Coordinator.Tests.Rollouts;

/// <summary>The rollout store keeps states and kinds as the words in its text columns, as the release before the enums did.</summary>
public sealed class RolloutStoreTests : IDisposable
{
    private readonly string _state = ScratchDirectory.Create("rollout-store");
    private readonly StateDatabase _database;
    private readonly RolloutStore _store;

    public RolloutStoreTests()
    {
        _database = new StateDatabase(_state);
        _store = new RolloutStore(_database);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        ScratchDirectory.Delete(_state);
    }

    [Fact]
    public void CreateAndTransition_EnumStates_ColumnsHoldTheWords()
    {
        var rollout = new Rollout { Id = "r-1", State = RolloutState.Running, CreatedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UnixEpoch), Request = new() };
        rollout.Steps.Add(new RolloutStep { Sequence = 1, Batch = 1, Kind = StepKind.RenewCa, State = StepState.Succeeded });
        rollout.Steps.Add(new RolloutStep { Sequence = 2, Batch = 2, Kind = StepKind.Install, Node = "master-1", State = StepState.RolledBack });
        rollout.Steps.Add(new RolloutStep { Sequence = 3, Batch = 3, Kind = StepKind.Restart, Node = "master-1", Unit = "etcd.service", State = StepState.Pending });
        _store.Create(rollout, []);
        var rollback = new RolloutStep { Sequence = 4, Batch = 3, Kind = StepKind.Rollback, Node = "master-1", State = StepState.Failed };

        Assert.True(_store.Transition("r-1", [RolloutState.Running], RolloutState.RolledBack, "", null, rollback));

        Assert.Equal(["rolled-back"], Column("SELECT state FROM rollouts"));
        Assert.Equal(["renew-ca succeeded", "install rolled-back", "restart pending", "rollback failed"],
            Column("SELECT kind || ' ' || state FROM rollout_steps ORDER BY sequence"));
    }

    [Fact]
    public void Find_RowsAsTheReleaseBeforeWroteThem_EveryWordReadAsItsValue()
    {
        _store.Create(new Rollout { Id = "r-old", State = RolloutState.Running, CreatedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UnixEpoch), Request = new() }, []);
        Execute("UPDATE rollouts SET state = 'halted'");
        var rows = new[] { ("renew-ca", "succeeded"), ("install", "rolled-back"), ("restart", "failed"), ("rollback", "running"), ("install", "pending"), ("restart", "skipped") };
        for (var i = 0; i < rows.Length; i++)
        {
            Execute($"INSERT INTO rollout_steps VALUES ('r-old', {i + 1}, 1, '{rows[i].Item1}', 'master-1', '', '{rows[i].Item2}', '', '', NULL, NULL)");
        }

        var rollout = _store.Find("r-old")!;

        Assert.Equal(RolloutState.Halted, rollout.State);
        Assert.Equal(
            [(StepKind.RenewCa, StepState.Succeeded), (StepKind.Install, StepState.RolledBack), (StepKind.Restart, StepState.Failed),
             (StepKind.Rollback, StepState.Running), (StepKind.Install, StepState.Pending), (StepKind.Restart, StepState.Skipped)],
            rollout.Steps.Select(s => (s.Kind, s.State)));
        Assert.Equal("r-old", _store.FindUnfinished()?.Id); // found by its word, 'halted'
    }

    private List<string> Column(string sql)
    {
        using var connection = _database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var values = new List<string>();
        while (reader.Read())
        {
            values.Add(reader.GetString(0));
        }
        return values;
    }

    private void Execute(string sql)
    {
        using var connection = _database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
