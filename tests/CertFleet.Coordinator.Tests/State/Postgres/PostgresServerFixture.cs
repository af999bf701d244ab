using CertFleet.Testing.Postgres;

namespace CertFleet.Coordinator.Tests.State.Postgres;

/// <summary>
/// A private PostgreSQL server for a test class (IClassFixture), shared by the classes that run at the same time:
/// started by the first, stopped after the last, each test in a database of its own. One server per class cost a
/// second or more of initdb each, ten times over, on the 2 cores the whole test run shares.
/// </summary>
public sealed class PostgresServerFixture : IAsyncLifetime
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static PostgresServer? _shared;
    private static int _users;
    private PostgresServer? _server;

    public PostgresServer Server => _server ?? throw new InvalidOperationException("the server is not started yet");

    public async Task InitializeAsync()
    {
        await Gate.WaitAsync();
        try
        {
            _shared ??= await PostgresServer.StartAsync();
            _users++;
            _server = _shared;
        }
        finally
        {
            Gate.Release();
        }
    }

    public async Task DisposeAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (_server is not null && --_users == 0)
            {
                await _shared!.DisposeAsync();
                _shared = null;
            }
        }
        finally
        {
            Gate.Release();
        }
    }
}
