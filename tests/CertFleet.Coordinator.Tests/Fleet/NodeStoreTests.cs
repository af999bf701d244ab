using CertFleet.Coordinator.Fleet;
using CertFleet.Coordinator.Tests.State;
using CertFleet.Protocol.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Time.Testing;

namespace CertFleet.Coordinator.Tests.Fleet;

/// <summary>Enrolled nodes and their reports on each engine (NodeStoreOnSqliteTests, NodeStoreOnPostgresTests).</summary>
public abstract class NodeStoreTests(StateEngineUnderTest engine) : StateStoreTests(engine)
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero));

    private NodeStore Nodes => new(Database, _time);

    [Fact]
    public void Find_AfterEnrollReportAndTouch_EveryFieldAsWritten()
    {
        var enrolledAt = _time.GetUtcNow();
        Nodes.Enroll("master-1", NodeRole.Master, "0A", "09");
        _time.Advance(TimeSpan.FromSeconds(1.2345678));
        Nodes.SaveReport("master-1", Report("master-1", 3, 100));
        _time.Advance(TimeSpan.FromMinutes(1));
        Nodes.Touch("master-1");

        var node = Nodes.Find("master-1")!;

        Assert.Equal(("master-1", NodeRole.Master, "0A", "09"), (node.Name, node.Role, node.IdentitySerial, node.PreviousSerial));
        Assert.Equal((enrolledAt, _time.GetUtcNow(), _time.GetUtcNow().AddMinutes(-1)), (node.EnrolledAt, node.LastSeen!.Value, node.LastReport!.Value));
        Assert.Equal(Report("master-1", 3, 100), node.Inventory);
        Assert.Null(node.ReportRefusal);
    }

    [Fact]
    public void Enroll_AgainAfterARefusedReport_KeepsTheLastReportAndTheRefusal()
    {
        Nodes.Enroll("worker-1", NodeRole.Worker, "01");
        Nodes.SaveReport("worker-1", Report("worker-1", 1, 100));
        Nodes.RefuseReport("worker-1", "a BER certificate at /etc/kubernetes/pki/ber.crt");

        Nodes.Enroll("worker-1", NodeRole.Master, "02");

        var node = Nodes.Find("worker-1")!;
        Assert.Equal((NodeRole.Master, "02", (string?)null), (node.Role, node.IdentitySerial, node.PreviousSerial));
        Assert.Equal(Report("worker-1", 1, 100), node.Inventory);
        Assert.Equal("a BER certificate at /etc/kubernetes/pki/ber.crt", node.ReportRefusal);
    }

    [Fact]
    public void RefuseReport_RefusalQuotingANul_ReadBackWithTheNulSymbolInItsPlace()
    {
        Nodes.Enroll("worker-1", NodeRole.Worker, "01");

        Nodes.RefuseReport("worker-1", "a path with NUL: /etc/kubernetes/pki/a\0b.crt");

        Assert.Equal("a path with NUL: /etc/kubernetes/pki/a\u2400b.crt", Nodes.Find("worker-1")!.ReportRefusal);
    }

    [Fact]
    public void SaveReport_OneMebibyte_ReadBackExactly()
    {
        Nodes.Enroll("worker-1", NodeRole.Worker, "01");
        var report = Report("worker-1", 64, 16 * 1024);
        Assert.InRange(report.CalculateSize(), 1024 * 1024, 1024 * 1024 + 16 * 1024);

        Nodes.SaveReport("worker-1", report);

        Assert.Equal(report.ToByteArray(), Nodes.Find("worker-1")!.Inventory!.ToByteArray());
    }

    [Fact]
    public void Page_ByNodesAndBytes_StopsBeforeTheReportThatWouldPassTheBound()
    {
        foreach (var name in (string[])["worker-1", "worker-2", "worker-3", "worker-4"])
        {
            Nodes.Enroll(name, NodeRole.Worker, "01");
            Nodes.SaveReport(name, Report(name, 1, 1000));
        }

        var (byCount, moreByCount) = Nodes.Page("", 2, long.MaxValue);
        var (byBytes, moreByBytes) = Nodes.Page("worker-2", 10, 1500);

        Assert.Equal(["worker-1", "worker-2"], byCount.Select(n => n.Name));
        Assert.True(moreByCount);
        Assert.Equal(["worker-3"], byBytes.Select(n => n.Name));
        Assert.True(moreByBytes);
    }

    [Fact]
    public void Remove_EnrolledNode_GoneAndASecondRemoveFindsNothing()
    {
        Nodes.Enroll("worker-1", NodeRole.Worker, "01");

        Assert.True(Nodes.Remove("worker-1"));

        Assert.Null(Nodes.Find("worker-1"));
        Assert.False(Nodes.Remove("worker-1"));
    }

    /// <summary>A report of <paramref name="certificates"/> entries of <paramref name="derBytes"/> bytes each (every byte value), with non-ASCII paths.</summary>
    private static InventoryReport Report(string node, int certificates, int derBytes)
    {
        var report = new InventoryReport { TakenAt = Timestamp.FromDateTimeOffset(new DateTimeOffset(2026, 11, 28, 11, 0, 0, TimeSpan.Zero)) };
        for (var i = 0; i < certificates; i++)
        {
            report.Certificates.Add(new ReportedCertificate
            {
                Der = ByteString.CopyFrom([.. Enumerable.Range(i, derBytes).Select(b => (byte)b)]),
                Path = $"/etc/kubernetes/pki/{node}/zertifikat-{i}-prüfung.crt",
                UsedBy = { "kubelet", "kube-apiserver" },
            });
        }
        return report;
    }
}
