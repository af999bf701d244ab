namespace CertFleet.Coordinator.Metrics;

/// <summary>
/// The labels of x509-certificate-exporter v4's per-source series (x509_source_up, x509_source_bundles,
/// x509_source_errors_total; docs/metrics.md). Each node is one source: its agent watching the node's files, so
/// <c>source_kind</c> is the exporter's <c>file</c> and <c>source_name</c> the node's name; <c>node</c> is ours, as on
/// the x509_cert_* series, so one query can join both.
/// </summary>
internal static class SourceLabels
{
    public const string Kind = "file";

    /// <summary>
    /// The one reason CertFleet gives: the exporter's generic one for a file that could not be read or parsed. An
    /// agent's report carries a message per file, not the exporter's reason codes, and the exporter's own alerts sum
    /// over <c>reason</c>, so a finer split would be guessed from message text.
    /// </summary>
    public const string Reason = "read_failed";

    public static readonly string[] Names = ["source_kind", "source_name", ExporterLabels.Node];

    public static readonly string[] ErrorNames = ["source_kind", "source_name", "reason", ExporterLabels.Node];

    /// <summary>Where <c>node</c> is in both label sets' values: the last.</summary>
    public static int NodeIndex(string[] values) => values.Length - 1;

    public static string[] Of(string node) => [Kind, node, node];

    public static string[] Error(string node) => [Kind, node, Reason, node];
}
