using CertFleet.Coordinator.Fleet;
using CertFleet.Coordinator.Tests.Hostile.Reports;
using CertFleet.Coordinator.Tests.Support;
using CertFleet.Protocol.V1;
using CertFleet.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CertFleet.Coordinator.Tests.Metrics;

/// <summary>
/// x509-certificate-exporter v4's per-source series (x509_source_up, x509_source_bundles, x509_source_errors_total),
/// one source per node, from a real coordinator on 127.0.133.1 with agents on real Connect streams: the series the v4
/// chart's SourceErrors and SourceDown alerts and its dashboard's exporter panels read.
/// </summary>
public sealed class SourceMetricsTests(EcClusterPkiFixture fixture) : IClassFixture<EcClusterPkiFixture>
{
    private const string Address = "127.0.133.1";

    [Fact]
    public async Task Metrics_NodesReportingWithAndWithoutErrors_SourceSeriesPerNodeErrorsCountedPerReportUpFollowsTheAgent()
    {
        await using var coordinator = await TestCoordinator.StartAsync($"{Address}:7443", metricsListen: $"{Address}:9100");
        var honest = HostileReports.Honest(fixture, "worker-1");
        var broken = honest.Clone();
        broken.Errors.Add(new ReportedError { Path = "/etc/kubernetes/pki/broken.crt", Message = "not a PEM certificate" });
        broken.Errors.Add(new ReportedError { Path = "/etc/kubernetes/pki/unreadable.crt", Message = "permission denied" });
        await using var worker1 = await HostileReportTests.ConnectAsync(coordinator, "worker-1", broken);
        await using var worker2 = await HostileReportTests.ConnectAsync(coordinator, "worker-2", HostileReports.Honest(fixture, "worker-2"));
        var fleet = coordinator.Services.GetRequiredService<IFleetInventory>();
        await Eventually.True(() => fleet.Nodes().Count(n => n.LastReport is not null) == 2, "both agents reported");

        var first = await MetricsScrape.SamplesAsync(Address);
        var reportedAt = fleet.Find("worker-1")!.LastReport;
        await Task.Delay(TimeSpan.FromMilliseconds(20)); // the next report gets a later time
        await worker1.SendAsync(new AgentMessage { Inventory = broken });
        await Eventually.True(() => fleet.Find("worker-1")!.LastReport != reportedAt, "worker-1 reported again");
        var second = await MetricsScrape.SamplesAsync(Address);
        var unchanged = await MetricsScrape.SamplesAsync(Address);
        worker2.HangUp();
        await Eventually.True(() => !fleet.Find("worker-2")!.Connected, "worker-2 shows as disconnected");
        var afterHangUp = await MetricsScrape.SamplesAsync(Address);

        var worker1Source = new[] { ("source_kind", "file"), ("source_name", "worker-1"), ("node", "worker-1") };
        var worker2Source = new[] { ("source_kind", "file"), ("source_name", "worker-2"), ("node", "worker-2") };
        Assert.Equal(1, MetricsScrape.Value(first, "x509_source_up", worker1Source));
        Assert.Equal(1, MetricsScrape.Value(first, "x509_source_up", worker2Source));
        Assert.Equal(honest.Certificates.Select(c => c.Path).Distinct().Count(), MetricsScrape.Value(first, "x509_source_bundles", worker1Source));
        // each report's errors are counted once, when a scrape first sees the report; a node without errors has its series at 0
        Assert.Equal(2, MetricsScrape.Value(first, "x509_source_errors_total", [.. worker1Source, ("reason", "read_failed")]));
        Assert.Equal(4, MetricsScrape.Value(second, "x509_source_errors_total", [.. worker1Source, ("reason", "read_failed")]));
        Assert.Equal(4, MetricsScrape.Value(unchanged, "x509_source_errors_total", [.. worker1Source, ("reason", "read_failed")]));
        Assert.Equal(0, MetricsScrape.Value(second, "x509_source_errors_total", [.. worker2Source, ("reason", "read_failed")]));
        Assert.Equal(0, MetricsScrape.Value(afterHangUp, "x509_source_up", worker2Source));
        Assert.Equal(1, MetricsScrape.Value(afterHangUp, "x509_source_up", worker1Source));
        // the v3 gauge stays for the alert rules written for it
        Assert.Equal(2, MetricsScrape.Value(afterHangUp, "x509_read_errors"));
    }

    [Fact]
    public async Task Metrics_ReportRefusedWhole_CountsOneErrorAndTheSourceIsDown()
    {
        await using var coordinator = await TestCoordinator.StartAsync("127.0.133.2:7443", metricsListen: "127.0.133.2:9100");
        var honest = HostileReports.Honest(fixture, "worker-1");
        await using var worker1 = await HostileReportTests.ConnectAsync(coordinator, "worker-1", honest);
        var fleet = coordinator.Services.GetRequiredService<IFleetInventory>();
        await Eventually.True(() => fleet.Find("worker-1")?.LastReport is not null, "worker-1 reported");
        var before = await MetricsScrape.SamplesAsync("127.0.133.2");

        var oversized = honest.Clone();
        for (var i = 0; i < ReportLimits.MaxErrors + 1; i++)
        {
            oversized.Errors.Add(new ReportedError { Path = $"/etc/kubernetes/pki/junk-{i}.crt", Message = "not a certificate" });
        }
        await worker1.SendAsync(new AgentMessage { Inventory = oversized });
        await Eventually.True(() => fleet.Find("worker-1")!.ReportRefusal is not null, "the report is refused");
        var after = await MetricsScrape.SamplesAsync("127.0.133.2");

        var source = new[] { ("source_kind", "file"), ("source_name", "worker-1"), ("node", "worker-1") };
        Assert.Equal(1, MetricsScrape.Value(before, "x509_source_up", source));
        Assert.Equal(0, MetricsScrape.Value(after, "x509_source_up", source));
        Assert.Equal(0, MetricsScrape.Value(before, "x509_source_errors_total", [.. source, ("reason", "read_failed")]));
        Assert.Equal(1, MetricsScrape.Value(after, "x509_source_errors_total", [.. source, ("reason", "read_failed")]));
    }
}
