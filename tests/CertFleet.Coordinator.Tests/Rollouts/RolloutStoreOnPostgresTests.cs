using CertFleet.Coordinator.Tests.State;
using CertFleet.Coordinator.Tests.State.Postgres;

namespace CertFleet.Coordinator.Tests.Rollouts;

public sealed class RolloutStoreOnPostgresTests(PostgresServerFixture postgres)
    : RolloutStoreTests(new PostgresEngineUnderTest(postgres.Server)), IClassFixture<PostgresServerFixture>;
