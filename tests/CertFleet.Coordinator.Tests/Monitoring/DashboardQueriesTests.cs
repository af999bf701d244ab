using System.Text.Json;
using CertFleet.Coordinator.Tests.Support;
using CertFleet.Testing;

namespace CertFleet.Coordinator.Tests.Monitoring;

/// <summary>
/// The shipped Grafana dashboard (packaging/monitoring/certfleet-dashboard.json) against a real Prometheus scraping a
/// real coordinator (both on 127.0.134.3, the fleet of <see cref="MonitoredFleet.DueAsync"/>): every panel's query, and
/// the node variable's, returns data, with the variables at their defaults ("All" nodes).
/// </summary>
public sealed class DashboardQueriesTests(EcClusterPkiFixture fixture) : IClassFixture<EcClusterPkiFixture>
{
    private const string Address = "127.0.134.3";

    private static string DashboardFile => Path.Combine(SharedFixtures.RepositoryRoot, "packaging", "monitoring", "certfleet-dashboard.json");

    [Fact]
    public async Task Dashboard_EveryPanelQueryOnARealPrometheusScrapingACoordinator_ReturnsData()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(DashboardFile));
        var queries = PanelQueries(dashboard.RootElement).ToList();
        var variables = Defaults(dashboard.RootElement);
        await using var fleet = await MonitoredFleet.DueAsync(fixture, Address);
        await using var prometheus = await PrometheusServer.StartAsync($"{Address}:19090", $"{Address}:9100");
        // rate() and increase() need two samples in their window: a few scrapes, a second apart
        await Eventually.True(async () => (await prometheus.QueryAsync("count_over_time(certfleet_nodes[1m]) >= 4")).GetArrayLength() > 0,
            "prometheus scraped the coordinator four times", TimeSpan.FromSeconds(60));

        var empty = new List<string>();
        foreach (var (title, expr) in queries)
        {
            var promql = variables.Aggregate(expr, (text, variable) => text.Replace("$" + variable.Key, variable.Value, StringComparison.Ordinal));
            if ((await prometheus.QueryAsync(promql)).GetArrayLength() == 0)
            {
                empty.Add($"{title}: {promql}");
            }
        }
        var nodes = await prometheus.QueryAsync("count by (node) (x509_cert_not_after)");
        var topNodes = Assert.Single(queries, q => q.Title == "Top Nodes");

        Assert.True(queries.Count >= 30, $"only {queries.Count} queries found in {DashboardFile}");
        Assert.True(empty.Count == 0, "queries without data:\n" + string.Join('\n', empty));
        // the node variable lists every reporting node, and "Top Nodes" has a row per node, not one per coordinator
        Assert.Equal(3, nodes.GetArrayLength());
        Assert.Equal(3, (await prometheus.QueryAsync(topNodes.Expr.Replace("$node", variables["node"], StringComparison.Ordinal))).GetArrayLength());
    }

    /// <summary>Every target of every panel (rows' panels too), with its panel's title.</summary>
    private static IEnumerable<(string Title, string Expr)> PanelQueries(JsonElement dashboard)
    {
        foreach (var panel in Panels(dashboard.GetProperty("panels")))
        {
            if (!panel.TryGetProperty("targets", out var targets))
            {
                continue;
            }
            foreach (var target in targets.EnumerateArray())
            {
                yield return (panel.GetProperty("title").GetString()!, target.GetProperty("expr").GetString()!);
            }
        }
    }

    private static IEnumerable<JsonElement> Panels(JsonElement panels)
    {
        foreach (var panel in panels.EnumerateArray())
        {
            yield return panel;
            if (panel.TryGetProperty("panels", out var inner))
            {
                foreach (var nested in Panels(inner))
                {
                    yield return nested;
                }
            }
        }
    }

    /// <summary>The variables as Grafana fills them on opening: "All" nodes, each threshold at its default.</summary>
    private static Dictionary<string, string> Defaults(JsonElement dashboard)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var variable in dashboard.GetProperty("templating").GetProperty("list").EnumerateArray())
        {
            var name = variable.GetProperty("name").GetString()!;
            switch (variable.GetProperty("type").GetString())
            {
                case "query":
                    values[name] = variable.GetProperty("allValue").GetString()!;
                    break;
                case "custom":
                    values[name] = variable.GetProperty("current").GetProperty("value").GetString()!;
                    break;
            }
        }
        // longest first, so $warning_threshold is never read as $warning followed by text
        return values.OrderByDescending(v => v.Key.Length).ToDictionary(v => v.Key, v => v.Value, StringComparer.Ordinal);
    }
}
