using CertFleet.Coordinator.Tests.State;

namespace CertFleet.Coordinator.Tests.Enrollment;

public sealed class TokenStoreOnSqliteTests() : TokenStoreTests(new SqliteEngineUnderTest("tokens"));
