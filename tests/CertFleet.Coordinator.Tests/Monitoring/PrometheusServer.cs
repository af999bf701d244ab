using System.Diagnostics;
using System.Text.Json;
using CertFleet.Coordinator.Tests.Support;
using CertFleet.Testing;

namespace CertFleet.Coordinator.Tests.Monitoring;

/// <summary>
/// A real Prometheus (Debian's `prometheus` package, which test.sh installs) on a loopback address with a data folder
/// of its own, scraping the given targets every second; stopped and its folder removed when disposed.
/// </summary>
internal sealed class PrometheusServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _folder;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };

    private PrometheusServer(Process process, string folder, string listen)
    {
        _process = process;
        _folder = folder;
        BaseUrl = $"http://{listen}";
    }

    public string BaseUrl { get; }

    public static async Task<PrometheusServer> StartAsync(string listen, params string[] metricsTargets)
    {
        var folder = ScratchDirectory.Create("prometheus");
        var config = Path.Combine(folder, "prometheus.yml");
        File.WriteAllText(config, "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: certfleet\n"
            + "    static_configs:\n      - targets: [" + string.Join(", ", metricsTargets.Select(t => $"\"{t}\"")) + "]\n");
        var start = new ProcessStartInfo("prometheus")
        {
            ArgumentList = { $"--config.file={config}", $"--storage.tsdb.path={Path.Combine(folder, "data")}", $"--web.listen-address={listen}", "--log.level=warn" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("prometheus did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            ScratchDirectory.Delete(folder);
            throw new InvalidOperationException("prometheus is not installed: run ./test.sh (it installs Debian's prometheus) or apt-get install prometheus", e);
        }
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new PrometheusServer(process, folder, listen);
        await Eventually.True(server.IsReadyAsync, $"prometheus answers on {listen}", TimeSpan.FromSeconds(60));
        return server;
    }

    /// <summary>The result vector of an instant query now (the API's `data.result`).</summary>
    public async Task<JsonElement> QueryAsync(string promql)
    {
        var url = $"{BaseUrl}/api/v1/query?query={Uri.EscapeDataString(promql)}";
        using var response = await _http.GetAsync(new Uri(url));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"prometheus refused {promql}: {body}");
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("data").GetProperty("result").Clone();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
        }
        _process.Dispose();
        _http.Dispose();
        ScratchDirectory.Delete(_folder);
    }

    private async Task<bool> IsReadyAsync()
    {
        if (_process.HasExited)
        {
            throw new InvalidOperationException($"prometheus exited with {_process.ExitCode}");
        }
        try
        {
            using var response = await _http.GetAsync(new Uri($"{BaseUrl}/-/ready"));
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }
}
