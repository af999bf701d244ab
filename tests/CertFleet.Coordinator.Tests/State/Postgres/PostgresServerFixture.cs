using CertFleet.Testing.Postgres;

namespace CertFleet.Coordinator.Tests.State.Postgres;

/// <summary>One private PostgreSQL server for a test class (IClassFixture): started before its first test, removed after its last.</summary>
public sealed class PostgresServerFixture : IAsyncLifetime
{
    private PostgresServer? _server;

    public PostgresServer Server => _server ?? throw new InvalidOperationException("the server is not started yet");

    public async Task InitializeAsync() => _server = await PostgresServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
