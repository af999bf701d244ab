using CertFleet.Coordinator.Tests.State;

namespace CertFleet.Coordinator.Tests.Fleet;

public sealed class NodeStoreOnSqliteTests() : NodeStoreTests(new SqliteEngineUnderTest("nodes"));
