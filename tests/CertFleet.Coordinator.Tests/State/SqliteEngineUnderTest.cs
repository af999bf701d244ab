using CertFleet.Coordinator.State;
using CertFleet.Testing;
using Microsoft.Data.Sqlite;

namespace CertFleet.Coordinator.Tests.State;

/// <summary>State in state.db of a scratch folder, removed afterwards.</summary>
public sealed class SqliteEngineUnderTest(string prefix) : StateEngineUnderTest
{
    private readonly string _folder = ScratchDirectory.Create(prefix);

    /// <summary>The state dir, as a coordinator is given it.</summary>
    public string StateDirectory => _folder;

    protected override Task<StateDatabase> CreateNewAsync() => Task.FromResult(new StateDatabase(_folder));

    protected override StateDatabase OpenNew(StateDatabase database) => new(_folder);

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        // pooled connections keep state.db open
        SqliteConnection.ClearAllPools();
        ScratchDirectory.Delete(_folder);
    }
}
