using System.Text.Json;

namespace CertFleet.Coordinator.Tests.Monitoring;

/// <summary>
/// A real Alertmanager (Debian's `prometheus-alertmanager`, which test.sh installs) on loopback, alone (no cluster
/// port), routing every alert to a receiver that sends nothing: what the tests read is its API's list of alerts.
/// </summary>
internal sealed class AlertmanagerServer(DaemonProcess daemon) : IAsyncDisposable
{
    public string Url => daemon.BaseUrl + "/";

    public static async Task<AlertmanagerServer> StartAsync(string listen) =>
        new(await DaemonProcess.StartAsync("prometheus-alertmanager", "prometheus-alertmanager", listen, folder =>
        {
            var config = Path.Combine(folder, "alertmanager.yml");
            File.WriteAllText(config, "route:\n  receiver: \"null\"\nreceivers:\n  - name: \"null\"\n");
            return [$"--config.file={config}", $"--storage.path={Path.Combine(folder, "data")}", $"--web.listen-address={listen}",
                "--cluster.listen-address=", "--log.level=warn"];
        }));

    /// <summary>The alerts Alertmanager holds as active now (resolved ones are not listed), as their label sets.</summary>
    public async Task<IReadOnlyList<Dictionary<string, string>>> ActiveAlertsAsync()
    {
        using var response = await daemon.Http.GetAsync(new Uri($"{daemon.BaseUrl}/api/v2/alerts?active=true&silenced=false&inhibited=false"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"alertmanager: {body}");
        using var json = JsonDocument.Parse(body);
        return [.. json.RootElement.EnumerateArray().Select(a => a.GetProperty("labels").EnumerateObject().ToDictionary(l => l.Name, l => l.Value.GetString()!))];
    }

    public ValueTask DisposeAsync() => daemon.DisposeAsync();
}
