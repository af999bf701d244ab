using CertFleet.Coordinator.Tests.State;

namespace CertFleet.Coordinator.Tests.Rollouts;

public sealed class RolloutStoreOnSqliteTests() : RolloutStoreTests(new SqliteEngineUnderTest("rollout-store"));
