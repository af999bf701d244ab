using System.Text.Json;

namespace CertFleet.Coordinator.Tests.Monitoring;

/// <summary>A real Prometheus (Debian's `prometheus`, which test.sh installs) on loopback, scraping the given targets every second.</summary>
internal sealed class PrometheusServer(DaemonProcess daemon) : IAsyncDisposable
{
    public static async Task<PrometheusServer> StartAsync(string listen, params string[] metricsTargets) =>
        new(await DaemonProcess.StartAsync("prometheus", "prometheus", listen, folder =>
        {
            var config = Path.Combine(folder, "prometheus.yml");
            File.WriteAllText(config, "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: certfleet\n"
                + "    static_configs:\n      - targets: [" + string.Join(", ", metricsTargets.Select(t => $"\"{t}\"")) + "]\n");
            return [$"--config.file={config}", $"--storage.tsdb.path={Path.Combine(folder, "data")}", $"--web.listen-address={listen}", "--log.level=warn"];
        }));

    /// <summary>The result vector of an instant query now (the API's `data.result`).</summary>
    public async Task<JsonElement> QueryAsync(string promql)
    {
        using var response = await daemon.Http.GetAsync(new Uri($"{daemon.BaseUrl}/api/v1/query?query={Uri.EscapeDataString(promql)}"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"prometheus refused {promql}: {body}");
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("data").GetProperty("result").Clone();
    }

    public ValueTask DisposeAsync() => daemon.DisposeAsync();
}
