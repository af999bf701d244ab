namespace CertFleet.Coordinator.Tests.Metrics;

/// <summary>GET /metrics from a coordinator's --metrics-listen (port 9100), read with the strict <see cref="Exposition"/> reader.</summary>
internal static class MetricsScrape
{
    public static async Task<IReadOnlyList<Sample>> SamplesAsync(string address)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var response = await http.GetAsync(new Uri($"http://{address}:9100/metrics"));
        response.EnsureSuccessStatusCode();
        return Exposition.Parse(await response.Content.ReadAsStringAsync());
    }

    public static double Value(IReadOnlyList<Sample> samples, string name, params (string Name, string Value)[] labels) =>
        Assert.Single(samples, s => s.Name == name && labels.All(l => s.Label(l.Name) == l.Value)).Value;
}
