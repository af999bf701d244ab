using CertFleet.Coordinator.State;

namespace CertFleet.Coordinator.Tests.State;

/// <summary>
/// The engine a store test class runs on: a fresh, migrated state database for each test, and more views of it (a
/// restarted coordinator, or a second coordinator of a group: each a StateDatabase with connections of its own).
/// Every database it gave out is disposed with it.
/// </summary>
public abstract class StateEngineUnderTest : IAsyncDisposable
{
    private readonly List<StateDatabase> _opened = [];

    public async Task<StateDatabase> CreateAsync() => Kept(await CreateNewAsync());

    /// <summary>Another StateDatabase on the database <paramref name="database"/> is on.</summary>
    public StateDatabase OpenAgain(StateDatabase database) => Kept(OpenNew(database));

    protected abstract Task<StateDatabase> CreateNewAsync();

    protected abstract StateDatabase OpenNew(StateDatabase database);

    public virtual ValueTask DisposeAsync()
    {
        foreach (var database in _opened)
        {
            database.Dispose();
        }
        _opened.Clear();
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    private StateDatabase Kept(StateDatabase database)
    {
        _opened.Add(database);
        return database;
    }
}
