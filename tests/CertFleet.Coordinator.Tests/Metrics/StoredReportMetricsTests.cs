using CertFleet.Coordinator.Fleet;
using CertFleet.Coordinator.Tests.Hostile.Reports;
using CertFleet.Coordinator.Tests.Support;
using CertFleet.Protocol.V1;
using CertFleet.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CertFleet.Coordinator.Tests.Metrics;

/// <summary>
/// Defence in depth behind the intake check: a BER certificate already in the state (stored before reports were
/// checked) is a read error at /metrics, never a failed or frozen scrape; on 127.0.131.2.
/// </summary>
public sealed class StoredReportMetricsTests(EcClusterPkiFixture fixture) : IClassFixture<EcClusterPkiFixture>
{
    [Fact]
    public async Task Metrics_BerCertificateAlreadyStored_CountedAsReadErrorAndTheFleetStillShown()
    {
        await using var coordinator = await TestCoordinator.StartAsync("127.0.131.2:7443", metricsListen: "127.0.131.2:9100");
        var honest = HostileReports.Honest(fixture, "worker-2");
        var stored = honest.Clone();
        stored.Certificates.Add(HostileReports.Entry("/etc/kubernetes/pki/ber.crt", HostileReports.BerNotDer(honest.Certificates[0].Der.ToByteArray())));
        await using var agent = await HostileReportTests.ConnectAsync(coordinator, "worker-2", null);
        await Eventually.True(() => coordinator.Services.GetRequiredService<IFleetInventory>().Find("worker-2")!.Connected, "worker-2 connected");
        // straight into the state, past the intake
        coordinator.Services.GetRequiredService<NodeStore>().SaveReport("worker-2", stored);

        var samples = await MetricsScrape.SamplesAsync("127.0.131.2");

        Assert.Equal(1, MetricsScrape.Value(samples, "certfleet_node_connected", ("node", "worker-2")));
        Assert.Equal(1, MetricsScrape.Value(samples, "x509_read_errors"));
        Assert.Equal(honest.Certificates.Count, samples.Count(s => s.Name == "x509_cert_not_after" && s.Label("node") == "worker-2"));
    }
}
