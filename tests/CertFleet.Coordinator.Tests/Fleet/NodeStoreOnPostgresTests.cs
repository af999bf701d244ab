using CertFleet.Coordinator.Tests.State;
using CertFleet.Coordinator.Tests.State.Postgres;

namespace CertFleet.Coordinator.Tests.Fleet;

public sealed class NodeStoreOnPostgresTests(PostgresServerFixture postgres)
    : NodeStoreTests(new PostgresEngineUnderTest(postgres.Server)), IClassFixture<PostgresServerFixture>;
