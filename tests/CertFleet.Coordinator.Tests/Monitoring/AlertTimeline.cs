using System.Globalization;
using System.Text;
using CertFleet.Coordinator.Tests.Metrics;

namespace CertFleet.Coordinator.Tests.Monitoring;

/// <summary>
/// Turns one real scrape into the two hours of series `promtool test rules` evaluates the rules on, one sample a
/// minute, keeping every label and value as scraped and moving each the way it would if the fleet stayed as it is:
/// <list type="bullet">
/// <item>Unix times (x509_cert_not_after/not_before) are moved so that the scrape's moment is promtool's time 0: the
/// time left to each certificate stays what it was, as promtool's clock starts at the Unix epoch.</item>
/// <item>x509_source_errors_total grows by the node's errors every five minutes (an agent's report interval);
/// certfleet_node_report_age_seconds of a node whose agent is gone grows a minute a minute; the signing refusals counter
/// reaches its scraped value at minute 45 (so a refusal shows within an hour of the evaluation).</item>
/// <item>Everything else stays as scraped.</item>
/// </list>
/// </summary>
internal sealed class AlertTimeline(IReadOnlyList<Sample> samples, DateTimeOffset scrapedAt, MonitoredFleet fleet)
{
    public const int Minutes = 120;

    /// <summary>When the alerts are compared: long after every rule's `for:` (30 minutes at most) has run.</summary>
    public static readonly TimeSpan EvaluatedAt = TimeSpan.FromMinutes(90);

    private const int RefusalMinute = 45;

    public IReadOnlyList<Sample> Samples => samples;

    /// <summary>The seconds left to a Unix-time sample at <see cref="EvaluatedAt"/>.</summary>
    public double SecondsLeftAtEvaluation(Sample sample) => Rebased(sample) - EvaluatedAt.TotalSeconds;

    /// <summary>The `input_series` of a promtool test file.</summary>
    public string InputSeries()
    {
        var yaml = new StringBuilder();
        foreach (var sample in samples)
        {
            yaml.Append("      - series: '").Append(Selector(sample).Replace("'", "''", StringComparison.Ordinal)).Append("'\n");
            yaml.Append("        values: '").Append(Values(sample)).Append("'\n");
        }
        return yaml.ToString();
    }

    private string Values(Sample sample) => sample.Name switch
    {
        "x509_cert_not_after" or "x509_cert_not_before" => Constant(Rebased(sample)),
        "x509_source_errors_total" => Growing(sample.Value, fleet.ReportErrors.GetValueOrDefault(sample.Label("node")) / 5.0),
        "certfleet_node_report_age_seconds" when fleet.Disconnected.Contains(sample.Label("node")) => Growing(sample.Value, 60),
        "certfleet_signing_refusals_total" when sample.Value > 0 =>
            $"0x{RefusalMinute} {Number(sample.Value)}x{Minutes - RefusalMinute - 1}",
        _ => Constant(sample.Value),
    };

    private double Rebased(Sample sample) => sample.Value - scrapedAt.ToUnixTimeSeconds();

    private static string Constant(double value) => $"{Number(value)}x{Minutes}";

    private static string Growing(double start, double perMinute) => $"{Number(start)}+{Number(perMinute)}x{Minutes}";

    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>name{label="value",...} with the text format's escapes.</summary>
    private static string Selector(Sample sample)
    {
        var labels = sample.Labels.OrderBy(l => l.Key, StringComparer.Ordinal)
            .Select(l => $"{l.Key}=\"{l.Value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal)}\"");
        return $"{sample.Name}{{{string.Join(',', labels)}}}";
    }
}
