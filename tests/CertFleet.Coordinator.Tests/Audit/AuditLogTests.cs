using CertFleet.Coordinator.Audit;
using CertFleet.Coordinator.State;
using CertFleet.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace CertFleet.Coordinator.Tests.Audit;

public sealed class AuditLogTests : IDisposable
{
    private readonly string _state = ScratchDirectory.Create("audit");
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public void Read_AfterAppends_OldestFirstWithEveryField()
    {
        var audit = Log();
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
        var audit = Log();
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
        Log().Append(new AuditRecord(AuditKinds.TokenCreated, "admin"));
        SqliteConnection.ClearAllPools();

        var restarted = Log();
        restarted.Append(new AuditRecord(AuditKinds.Enrolled, "agent:worker-1") { Node = "worker-1" });

        Assert.Equal([1L, 2L], restarted.Read(null, null).Select(e => e.Sequence));
    }

    [Theory]
    [InlineData("UPDATE audit SET reason = 'nothing happened'")]
    [InlineData("DELETE FROM audit")]
    public void Database_ChangingOrDeletingARecord_RefusedByTheDatabase(string sql)
    {
        var audit = Log();
        audit.Append(new AuditRecord(AuditKinds.Refused, "coordinator") { Node = "worker-1", Reason = "O=system:masters on a worker" });
        using var connection = new StateDatabase(_state).Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;

        var error = Assert.Throws<SqliteException>(() => command.ExecuteNonQuery());

        Assert.Contains("append-only", error.Message, StringComparison.Ordinal);
        Assert.Equal("O=system:masters on a worker", Assert.Single(audit.Read(null, null)).Reason);
    }

    private AuditLog Log() => new(new StateDatabase(_state), _time, NullLogger<AuditLog>.Instance);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        ScratchDirectory.Delete(_state);
    }
}
