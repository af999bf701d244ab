using CertFleet.Coordinator.Tests.State;
using CertFleet.Coordinator.Tests.State.Postgres;

namespace CertFleet.Coordinator.Tests.Enrollment;

public sealed class TokenStoreOnPostgresTests(PostgresServerFixture postgres)
    : TokenStoreTests(new PostgresEngineUnderTest(postgres.Server)), IClassFixture<PostgresServerFixture>;
