using CertFleet.Coordinator.Tests.State;

namespace CertFleet.Coordinator.Tests.Audit;

public sealed class AuditLogOnSqliteTests() : AuditLogTests(new SqliteEngineUnderTest("audit"));
