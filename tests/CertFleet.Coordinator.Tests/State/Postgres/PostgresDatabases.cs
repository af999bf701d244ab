using CertFleet.Coordinator.State;
using CertFleet.Coordinator.State.Engines;
using CertFleet.Testing.Postgres;

namespace CertFleet.Coordinator.Tests.State.Postgres;

/// <summary>State databases on a test's private PostgreSQL server, each in a database of its own.</summary>
internal static class PostgresDatabases
{
    private static int _next;

    /// <summary>A new, empty database on <paramref name="server"/>, opened (migrated) as a coordinator opens it.</summary>
    /// <param name="stalledTransactionLimit">As a group coordinator's lease duration sets it (<see cref="PostgresEngine"/>).</param>
    public static async Task<StateDatabase> CreateAsync(PostgresServer server, string prefix = "state", TimeSpan? stalledTransactionLimit = null)
    {
        var url = await server.CreateDatabaseAsync($"{prefix}_{Interlocked.Increment(ref _next)}_{Environment.ProcessId}");
        return Open(server, url, stalledTransactionLimit);
    }

    /// <summary>The database at <paramref name="url"/> on <paramref name="server"/> (a second coordinator's view of it).</summary>
    public static StateDatabase Open(PostgresServer server, string url, TimeSpan? stalledTransactionLimit = null) =>
        new(new PostgresEngine(PostgresLocation.TryParse(url, server.Password, "--database", out var problem)
            ?? throw new InvalidOperationException(problem), stalledTransactionLimit));
}
