using CertFleet.Coordinator.State;
using CertFleet.Testing.Postgres;

namespace CertFleet.Coordinator.Tests.State.Postgres;

/// <summary>State in a database of its own on the test class's PostgreSQL server (<see cref="PostgresServerFixture"/>).</summary>
public sealed class PostgresEngineUnderTest(PostgresServer server) : StateEngineUnderTest
{
    public PostgresServer Server => server;

    protected override Task<StateDatabase> CreateNewAsync() => PostgresDatabases.CreateAsync(server, "store");

    protected override StateDatabase OpenNew(StateDatabase database) => PostgresDatabases.Open(server, database.Path);

    /// <summary>Runs <paramref name="sql"/> with psql, as the superuser, on the database <paramref name="database"/> is on.</summary>
    public Task<string> PsqlAsync(StateDatabase database, string sql) =>
        server.RunPsqlAsync(new Uri(database.Path).AbsolutePath.TrimStart('/'), sql);
}
