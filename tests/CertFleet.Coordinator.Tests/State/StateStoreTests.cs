using CertFleet.Coordinator.State;

namespace CertFleet.Coordinator.Tests.State;

/// <summary>
/// The base of the store test classes, which are written once and run on each engine: an abstract class with the
/// tests, and a sealed class per engine (…OnSqliteTests, …OnPostgresTests) that names the engine and holds the
/// tests only that engine can run. Each test gets a fresh, migrated <see cref="Database"/>.
/// </summary>
public abstract class StateStoreTests(StateEngineUnderTest engine) : IAsyncLifetime
{
    private StateDatabase? _database;

    protected StateEngineUnderTest Engine => engine;

    protected StateDatabase Database => _database ?? throw new InvalidOperationException("the database is made before each test");

    public async Task InitializeAsync() => _database = await engine.CreateAsync();

    public async Task DisposeAsync() => await engine.DisposeAsync();

    /// <summary>Runs every action at once (each on a thread of its own, released together) and waits for them all.</summary>
    protected static async Task<T[]> AtOnce<T>(params Func<T>[] actions)
    {
        using var start = new Barrier(actions.Length);
        return await Task.WhenAll(actions.Select(action => Task.Factory.StartNew(() =>
        {
            start.SignalAndWait();
            return action();
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)));
    }
}
