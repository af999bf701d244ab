using CertFleet.Coordinator.Audit;
using CertFleet.Coordinator.Tests.State.Postgres;
using Microsoft.Extensions.Logging.Abstractions;

namespace CertFleet.Coordinator.Tests.Audit;

/// <summary>The audit trail on PostgreSQL: the shared tests, and what only PostgreSQL's triggers refuse.</summary>
public sealed class AuditLogOnPostgresTests(PostgresServerFixture postgres)
    : AuditLogTests(new PostgresEngineUnderTest(postgres.Server)), IClassFixture<PostgresServerFixture>
{
    private PostgresEngineUnderTest Postgres => (PostgresEngineUnderTest)Engine;

    [Theory]
    [InlineData("UPDATE audit SET reason = 'nothing happened';")]
    [InlineData("DELETE FROM audit;")]
    [InlineData("TRUNCATE audit;")]
    public async Task Psql_ChangingDeletingOrTruncatingAsTheSuperuser_RefusedByTheTriggers(string sql)
    {
        using var audit = new AuditLog(Database, TimeProvider.System, NullLogger<AuditLog>.Instance);
        audit.Append(new AuditRecord(AuditKinds.Refused, "coordinator") { Node = "worker-1", Reason = "O=system:masters on a worker" });
        var psql = Postgres.PsqlAsync(Database, sql);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => psql);

        Assert.Contains("the audit trail is append-only", error.Message, StringComparison.Ordinal);
        Assert.Equal("O=system:masters on a worker", Assert.Single(audit.Read(null, null)).Reason);
    }
}
