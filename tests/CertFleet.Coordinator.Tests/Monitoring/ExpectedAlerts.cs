using CertFleet.Coordinator.Tests.Metrics;

namespace CertFleet.Coordinator.Tests.Monitoring;

/// <summary>
/// Which alerts must be firing at <see cref="AlertTimeline.EvaluatedAt"/>, worked out from what the fleet is (whose agent
/// went, who reports errors) and the scraped values, with each label set as Prometheus gives it (the series' labels,
/// no metric name, the rule's severity).
/// </summary>
internal static class ExpectedAlerts
{
    private const double Day = 86400;

    public static Dictionary<string, List<SortedDictionary<string, string>>> Of(AlertTimeline timeline, MonitoredFleet fleet)
    {
        var samples = timeline.Samples;
        var expected = ShippedRules.Alerts().ToDictionary(a => a.Alert, _ => new List<SortedDictionary<string, string>>(), StringComparer.Ordinal);
        foreach (var sample in samples.Where(s => s.Name == "x509_cert_not_after"))
        {
            var left = timeline.SecondsLeftAtEvaluation(sample);
            Add(expected, "CertificateRenewal", sample, left is > 0 and < 28 * Day);
            Add(expected, "CertificateExpiration", sample, left < 14 * Day);
        }
        foreach (var sample in samples.Where(s => s.Name == "x509_cert_not_before"))
        {
            Add(expected, "CertificateNotYetValid", sample, timeline.SecondsLeftAtEvaluation(sample) > 0);
        }
        foreach (var sample in samples.Where(s => s.Name == "x509_source_errors_total"))
        {
            var erring = fleet.ReportErrors.GetValueOrDefault(sample.Label("node")) > 0;
            Add(expected, "SourceErrors", sample, erring, without: "reason");
            Add(expected, "SourceErrorsSustained", sample, erring, without: "reason");
        }
        foreach (var sample in samples)
        {
            switch (sample.Name)
            {
                case "x509_source_up":
                    Add(expected, "SourceDown", sample, sample.Value == 0);
                    break;
                case "certfleet_node_connected":
                    Add(expected, "CertFleetAgentDown", sample, sample.Value == 0);
                    break;
                case "certfleet_node_report_age_seconds":
                    Add(expected, "CertFleetNodeSilent", sample, fleet.Disconnected.Contains(sample.Label("node")) || sample.Value > 3600);
                    break;
                case "certfleet_rollouts" when sample.Label("state") == "halted":
                    Add(expected, "CertFleetRolloutHalted", sample, sample.Value > 0);
                    break;
                case "certfleet_signing_refusals_total" when sample.Value > 0:
                    // increase() keeps no label of the counter
                    expected["CertFleetSigningRefusals"].Add(WithSeverity("CertFleetSigningRefusals", []));
                    break;
            }
        }
        return expected;
    }

    private static void Add(Dictionary<string, List<SortedDictionary<string, string>>> expected, string alert, Sample sample, bool fires, string? without = null)
    {
        if (fires)
        {
            expected[alert].Add(WithSeverity(alert, sample.Labels.Where(l => l.Key != without)));
        }
    }

    private static SortedDictionary<string, string> WithSeverity(string alert, IEnumerable<KeyValuePair<string, string>> labels)
    {
        var all = new SortedDictionary<string, string>(labels.ToDictionary(l => l.Key, l => l.Value), StringComparer.Ordinal)
        {
            ["severity"] = ShippedRules.Alerts().Single(a => a.Alert == alert).Severity,
        };
        return all;
    }
}
