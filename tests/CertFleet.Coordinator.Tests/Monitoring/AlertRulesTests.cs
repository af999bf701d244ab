using System.Text;
using System.Text.Json;
using CertFleet.Testing;

namespace CertFleet.Coordinator.Tests.Monitoring;

/// <summary>A fleet whose certificates are valid for a year and CAs for ten: nothing is due.</summary>
public sealed class LongLivedPkiFixture() : ClusterPkiFixture("ec", "--days-left", "365", "--ca-days-left", "3650", "--masters", "1", "--workers", "1");

/// <summary>
/// The shipped alert rules (packaging/monitoring/certfleet-alerts.yml) under Prometheus' own tools: `promtool check
/// rules`, and `promtool test rules` on series scraped from real coordinators (127.0.134.1 with everything due,
/// 127.0.134.2 healthy; see <see cref="MonitoredFleet"/> and <see cref="AlertTimeline"/>): every alert fires for exactly
/// what is due, and none fires on a healthy fleet.
/// </summary>
public sealed class AlertRulesTests(EcClusterPkiFixture dueFixture, LongLivedPkiFixture healthyFixture)
    : IClassFixture<EcClusterPkiFixture>, IClassFixture<LongLivedPkiFixture>
{
    [Fact]
    public void CheckRules_ShippedFile_EveryRuleAndTemplateValid()
    {
        var result = ProcessRunner.Run("promtool", ["check", "rules", ShippedRules.File], timeout: TimeSpan.FromSeconds(30));

        Assert.True(result.ExitCode == 0, result.Combined);
        Assert.Contains($"SUCCESS: {ShippedRules.Alerts().Count} rules found", result.Combined, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TestRules_FleetWithEverythingDue_EveryAlertFiresForWhatIsDueAndNothingElse()
    {
        await using var fleet = await MonitoredFleet.DueAsync(dueFixture, "127.0.134.1");
        var timeline = new AlertTimeline(await fleet.ScrapeAsync(), DateTimeOffset.UtcNow, fleet);
        var expected = ExpectedAlerts.Of(timeline, fleet);

        var result = RunPromtool(timeline, expected);

        Assert.True(result.ExitCode == 0, result.Combined);
        // every rule shown firing on what it watches: the fixture's leaves (10 days) and not its CAs (30 days), one
        // node's errors, the gone agent, the halted rollout, the refusal, the certificate valid from the day after tomorrow
        Assert.All(expected, e => Assert.True(e.Value.Count > 0, $"{e.Key} fires for nothing in the due fleet"));
        Assert.DoesNotContain(expected["CertificateExpiration"], a => a["subject_CN"] == "kubernetes");
        Assert.Contains(expected["CertificateExpiration"], a => a["subject_CN"] == "kube-apiserver" && a["node"] == "master-1");
        Assert.Equal(["worker-1"], expected["SourceErrors"].Select(a => a["node"]));
        Assert.Equal(["worker-2"], expected["CertFleetAgentDown"].Select(a => a["node"]));
        Assert.Equal(["worker-2"], expected["SourceDown"].Select(a => a["node"]));
        Assert.Equal([MonitoredFleet.NotYetValidPath], expected["CertificateNotYetValid"].Select(a => a["filepath"]));
    }

    [Fact]
    public async Task TestRules_HealthyFleet_NoAlertFires()
    {
        await using var fleet = await MonitoredFleet.HealthyAsync(healthyFixture, "127.0.134.2");
        var timeline = new AlertTimeline(await fleet.ScrapeAsync(), DateTimeOffset.UtcNow, fleet);
        var expected = ExpectedAlerts.Of(timeline, fleet);

        var result = RunPromtool(timeline, expected);

        Assert.All(expected, e => Assert.Empty(e.Value));
        Assert.True(result.ExitCode == 0, result.Combined);
    }

    /// <summary>Writes the promtool test file (and the rules without annotations beside it) and runs it.</summary>
    private static ProcessResult RunPromtool(AlertTimeline timeline, Dictionary<string, List<SortedDictionary<string, string>>> expected)
    {
        var folder = ScratchDirectory.Create("promtool-rules");
        try
        {
            var rules = Path.Combine(folder, "rules.yml");
            ShippedRules.WriteWithoutAnnotations(rules);
            var test = new StringBuilder()
                .Append("rule_files: ['").Append(rules).Append("']\n")
                .Append("evaluation_interval: 1m\n")
                .Append("tests:\n  - interval: 1m\n    input_series:\n")
                .Append(timeline.InputSeries())
                .Append("    alert_rule_test:\n");
            foreach (var (alert, alerts) in expected)
            {
                test.Append("      - eval_time: ").Append((int)AlertTimeline.EvaluatedAt.TotalMinutes).Append("m\n")
                    .Append("        alertname: ").Append(alert).Append('\n');
                if (alerts.Count == 0)
                {
                    test.Append("        exp_alerts: []\n");
                    continue;
                }
                test.Append("        exp_alerts:\n");
                foreach (var labels in alerts)
                {
                    // JSON is YAML: the labels with every escape they need
                    test.Append("          - exp_labels: ").Append(JsonSerializer.Serialize(labels)).Append('\n');
                }
            }
            var file = Path.Combine(folder, "test.yml");
            File.WriteAllText(file, test.ToString());
            return ProcessRunner.Run("promtool", ["test", "rules", file], timeout: TimeSpan.FromMinutes(2));
        }
        finally
        {
            ScratchDirectory.Delete(folder);
        }
    }
}
