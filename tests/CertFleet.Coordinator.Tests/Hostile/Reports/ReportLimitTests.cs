using CertFleet.Coordinator.Tests.Support;
using CertFleet.Protocol.V1;
using CertFleet.Testing;
using Google.Protobuf;

namespace CertFleet.Coordinator.Tests.Hostile.Reports;

/// <summary>
/// A hostile agent with a real identity sends a report over one of the per-node limits (a real coordinator on
/// 127.0.131.3): the report is refused whole, the node's last report stays, and its error names the limit.
/// </summary>
public sealed class ReportLimitTests(EcClusterPkiFixture fixture) : IClassFixture<EcClusterPkiFixture>, IAsyncLifetime
{
    // the limits as an operator reads them, spelled out so this test also runs against code from before them
    private const string ReportPath = "(inventory report)";
    private TestCoordinator _coordinator = null!;

    public async Task InitializeAsync() => _coordinator = await TestCoordinator.StartAsync("127.0.131.3:7443");

    public async Task DisposeAsync() => await _coordinator.DisposeAsync();

    public static TheoryData<string, string> Limits => new()
    {
        { "certificates", "1,001 certificates, more than the 1,000" },
        { "errors", "1,001 errors, more than the 1,000" },
        { "certificate-bytes", "a certificate of 65,537 bytes at /etc/kubernetes/pki/huge.crt, more than the 65,536" },
        { "report-bytes", "more than the 4,194,304 a node may send" },
    };

    [Theory]
    [MemberData(nameof(Limits))]
    public async Task Report_OverALimit_RefusedWholeLastReportStaysAndTheErrorNamesTheLimit(string limit, string expected)
    {
        var node = "worker-" + limit;
        var honest = HostileReports.Honest(fixture, "worker-1");
        await using var agent = await HostileReportTests.ConnectAsync(_coordinator, node, honest);
        var first = await Eventually.ValueAsync(async () => (await NodeAsync(node)) is { LastReport: not null } n ? n : null, "the honest report stored");

        await agent.SendAsync(new AgentMessage { Inventory = OverLimit(limit, honest) });
        var refused = await Eventually.ValueAsync(async () => (await NodeAsync(node)) is { } n && n.Errors.Any(e => e.Path == ReportPath) ? n : null,
            "the refusal shows");

        var error = Assert.Single(refused.Errors, e => e.Path == ReportPath);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains("keeps the node's previous report", error.Message, StringComparison.Ordinal);
        Assert.Equal(first.Certificates, refused.Certificates);
        Assert.Equal(first.LastReport, refused.LastReport);

        // the next honest report replaces the refusal
        await agent.SendAsync(new AgentMessage { Inventory = honest });
        await Eventually.ValueAsync(async () => (await NodeAsync(node)) is { } n && n.Errors.All(e => e.Path != ReportPath) ? n : null,
            "the refusal is gone");
    }

    [Fact]
    public async Task Report_CertificateWithAHugePath_ThatEntryIsAnErrorWithTheTruncatedPath()
    {
        var report = HostileReports.Honest(fixture, "worker-1");
        var huge = report.Certificates[0].Clone();
        huge.Path = "/etc/kubernetes/" + new string('a', 20_000);
        report.Certificates.Add(huge);
        await using var agent = await HostileReportTests.ConnectAsync(_coordinator, "worker-long-path", report);

        var node = await Eventually.ValueAsync(async () => (await NodeAsync("worker-long-path")) is { LastReport: not null } n ? n : null, "the report stored");

        var error = Assert.Single(node.Errors);
        Assert.StartsWith("/etc/kubernetes/aaa", error.Path, StringComparison.Ordinal);
        Assert.EndsWith("... (truncated, 20016 bytes)", error.Path, StringComparison.Ordinal);
        Assert.Contains("its path is longer than the 8,192 bytes", error.Message, StringComparison.Ordinal);
        Assert.Equal(report.Certificates.Count - 1, node.Certificates.Count);
    }

    private static InventoryReport OverLimit(string limit, InventoryReport honest)
    {
        var report = honest.Clone();
        switch (limit)
        {
            case "certificates":
                while (report.Certificates.Count <= 1_000)
                {
                    report.Certificates.Add(honest.Certificates[report.Certificates.Count % honest.Certificates.Count]);
                }
                break;
            case "errors":
                for (var i = 0; i <= 1_000; i++)
                {
                    report.Errors.Add(new ReportedError { Path = $"/etc/kubernetes/pki/{i}.crt", Message = "unreadable" });
                }
                break;
            case "certificate-bytes":
                report.Certificates.Add(HostileReports.Entry("/etc/kubernetes/pki/huge.crt", new byte[64 * 1024 + 1]));
                break;
            case "report-bytes":
                for (var i = 0; i < 100; i++)
                {
                    report.Certificates.Add(HostileReports.Entry($"/etc/kubernetes/pki/big-{i}.crt", new byte[60_000]));
                }
                break;
        }
        return report;
    }

    private async Task<NodeStatus?> NodeAsync(string node) =>
        (await _coordinator.Admin().GetStatusAsync(new StatusRequest(), deadline: HostileReportTests.Deadline())).Nodes.SingleOrDefault(n => n.Name == node);
}
