using System.Data.Common;
using System.Text;
using CertFleet.Coordinator.Audit;
using CertFleet.Coordinator.State;
using CertFleet.Coordinator.Tests.State;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace CertFleet.Coordinator.Tests.Audit;

/// <summary>The audit trail on each engine (AuditLogOnSqliteTests, AuditLogOnPostgresTests).</summary>
public abstract class AuditLogTests(StateEngineUnderTest engine) : StateStoreTests(engine)
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public void Read_AfterAppends_OldestFirstWithEveryField()
    {
        using var audit = Log();
        audit.Append(new AuditRecord(AuditKinds.Issued, "coordinator")
        {
            Node = "worker-1", Path = "/etc/kubernetes/pki/worker-1.crt", Subject = "CN=system:node:worker-1,O=system:nodes",
            Serial = "0A", PreviousSerial = "09", NotAfter = _time.GetUtcNow().AddDays(365), RolloutId = "r1", Detail = "issued by CN=kubernetes",
        });
        _time.Advance(TimeSpan.FromMinutes(1));
        audit.NodeRemoved("worker-1");

        var events = audit.Read(null, null);

        Assert.Equal([AuditKinds.Issued, AuditKinds.NodeRemoved], events.Select(e => e.Kind));
        var issued = events[0];
        Assert.Equal(("worker-1", "/etc/kubernetes/pki/worker-1.crt", "0A", "09", "r1"), (issued.Node, issued.Path, issued.Serial, issued.PreviousSerial, issued.RolloutId));
        Assert.Equal(_time.GetUtcNow().AddMinutes(-1).AddDays(365), issued.NotAfter.ToDateTimeOffset());
        Assert.Equal(_time.GetUtcNow().AddMinutes(-1), issued.Time.ToDateTimeOffset());
        Assert.Equal("admin", events[1].Actor);
        Assert.Null(events[1].NotAfter);
    }

    [Fact]
    public void Read_ByNodeAndSince_OnlyThoseRecords()
    {
        using var audit = Log();
        audit.Append(new AuditRecord(AuditKinds.Enrolled, "agent:worker-1") { Node = "worker-1" });
        _time.Advance(TimeSpan.FromHours(2));
        var later = _time.GetUtcNow();
        audit.Append(new AuditRecord(AuditKinds.Enrolled, "agent:worker-2") { Node = "worker-2" });
        audit.Append(new AuditRecord(AuditKinds.Restarted, "coordinator") { Node = "worker-1", Path = "kubelet" });

        Assert.Equal(["worker-1", "worker-1"], audit.Read("worker-1", null).Select(e => e.Node));
        Assert.Equal([AuditKinds.Enrolled, AuditKinds.Restarted], audit.Read(null, later).Select(e => e.Kind));
        Assert.Equal([AuditKinds.Restarted], audit.Read("worker-1", later).Select(e => e.Kind));
    }

    [Fact]
    public void Constructor_CoordinatorRestarts_EarlierRecordsKeptAndNumberingGoesOn()
    {
        using (var before = Log())
        {
            before.Append(new AuditRecord(AuditKinds.TokenCreated, "admin"));
        }

        using var restarted = Log(Engine.OpenAgain(Database));
        restarted.Append(new AuditRecord(AuditKinds.Enrolled, "agent:worker-1") { Node = "worker-1" });

        Assert.Equal([1L, 2L], restarted.Read(null, null).Select(e => e.Sequence));
    }

    [Theory]
    [InlineData("UPDATE audit SET reason = 'nothing happened'")]
    [InlineData("DELETE FROM audit")]
    public void Database_ChangingOrDeletingARecord_RefusedByTheDatabase(string sql)
    {
        using var audit = Log();
        audit.Append(new AuditRecord(AuditKinds.Refused, "coordinator") { Node = "worker-1", Reason = "O=system:masters on a worker" });
        using var connection = Database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;

        var error = Assert.ThrowsAny<DbException>(() => command.ExecuteNonQuery());

        Assert.Contains("append-only", error.Message, StringComparison.Ordinal);
        Assert.Equal("O=system:masters on a worker", Assert.Single(audit.Read(null, null)).Reason);
    }

    [Fact]
    public void Append_FieldsOfTheMostBytesWithNonAsciiAndControlCharacters_ReadBackExactly()
    {
        using var audit = Log();
        // 1, 2, 3 and 4 UTF-8 bytes a character, and the controls a hostile subject or probe output may carry
        var fields = Enumerable.Range(0, 4).Select(i => Fill($"{i}: CN=zertifikat-prüfung,O=証明書 🔐\t\r\n\u0001\u001b[31m\u007f\u0085\u2028 ", AuditLog.MaxFieldBytes)).ToList();
        audit.Append(new AuditRecord(AuditKinds.Refused, "coordinator") { Subject = fields[0], Path = fields[1], Reason = fields[2], Detail = fields[3] });

        var read = Assert.Single(audit.Read(null, null));

        Assert.Equal(AuditLog.MaxFieldBytes, Encoding.UTF8.GetByteCount(read.Subject));
        Assert.Equal(fields, [read.Subject, read.Path, read.Reason, read.Detail]);
    }

    [Fact]
    public void Append_FieldWithNul_ReadBackWithTheNulSymbolInItsPlace()
    {
        using var audit = Log();

        audit.Append(new AuditRecord(AuditKinds.Refused, "coordinator") { Subject = "CN=worker-1\0.evil.example", Reason = "NUL in the subject" });

        Assert.Equal("CN=worker-1\u2400.evil.example", Assert.Single(audit.Read(null, null)).Subject);
    }

    /// <summary><paramref name="pattern"/> repeated to exactly <paramref name="bytes"/> UTF-8 bytes (the rest filled with ASCII).</summary>
    private static string Fill(string pattern, int bytes)
    {
        var text = new StringBuilder();
        while (Encoding.UTF8.GetByteCount(text.ToString()) + Encoding.UTF8.GetByteCount(pattern) <= bytes)
        {
            text.Append(pattern);
        }
        return text.Append('x', bytes - Encoding.UTF8.GetByteCount(text.ToString())).ToString();
    }

    private AuditLog Log(StateDatabase? database = null) => new(database ?? Database, _time, NullLogger<AuditLog>.Instance);
}
