using CertFleet.Coordinator.Hosting;
using CertFleet.Testing;
using Microsoft.AspNetCore.Builder;

namespace CertFleet.Coordinator.Tests.Hosting;

/// <summary>--metrics-listen serves plain-HTTP Prometheus text on its own port, and nothing of the gRPC API; on 127.0.30.5.</summary>
public sealed class MetricsTests
{
    [Fact]
    public async Task Metrics_OnMetricsListen_ServesFleetGaugesOverPlainHttp()
    {
        var state = ScratchDirectory.Create("metrics");
        var app = CoordinatorHost.Build(new CoordinatorOptions
        {
            Listen = "127.0.30.5:7443",
            StateDirectory = state,
            MetricsListen = "127.0.30.5:9100",
        });
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await app.StartAsync(timeout.Token);
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };

            var text = await http.GetStringAsync(new Uri("http://127.0.30.5:9100/metrics"));
            var grpcOnMetricsPort = await http.PostAsync(new Uri("http://127.0.30.5:9100/certfleet.v1.AdminService/GetStatus"), null);

            Assert.Contains("certfleet_nodes 0\n", text, StringComparison.Ordinal);
            Assert.Contains("certfleet_agents_connected 0\n", text, StringComparison.Ordinal);
            Assert.False(grpcOnMetricsPort.IsSuccessStatusCode);
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
            await app.DisposeAsync();
            ScratchDirectory.Delete(state);
        }
    }
}
