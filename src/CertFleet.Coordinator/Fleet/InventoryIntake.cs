using System.Globalization;
using CertFleet.Coordinator.Audit;
using CertFleet.Pki;
using CertFleet.Pki.Certificates;
using CertFleet.Protocol.V1;

namespace CertFleet.Coordinator.Fleet;

/// <summary>What the coordinator does with a node's report: stores <see cref="Accepted"/>, or keeps the last one and shows <see cref="Refusal"/>.</summary>
internal sealed record IntakeResult(InventoryReport? Accepted, string? Refusal);

/// <summary>
/// Checks a node's inventory report once, as it arrives, so that status, plan, metrics and the signer only ever see
/// certificates that are strict DER X.509 and text of bounded size. A report over <see cref="ReportLimits"/> is
/// refused whole (the node's last report stays); an entry that fails is kept as that node's error, naming its path
/// and why, and the rest of the report is stored.
/// </summary>
internal static class InventoryIntake
{
    public static IntakeResult Judge(InventoryReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (Refusal(report) is { } refusal)
        {
            return new IntakeResult(null, refusal);
        }
        var accepted = new InventoryReport { TakenAt = report.TakenAt };
        foreach (var reported in report.Certificates)
        {
            if (Problem(reported) is { } problem)
            {
                accepted.Errors.Add(new ReportedError { Path = Bounded(reported.Path), Message = problem });
            }
            else
            {
                accepted.Certificates.Add(reported);
            }
        }
        accepted.Errors.AddRange(report.Errors.Select(e => new ReportedError { Path = Bounded(e.Path), Message = Bounded(e.Message) }));
        return new IntakeResult(accepted, null);
    }

    private static string? Refusal(InventoryReport report)
    {
        const string Keep = "the coordinator keeps the node's previous report";
        var size = report.CalculateSize();
        if (size > ReportLimits.MaxReportBytes)
        {
            return Invariant($"the inventory report is {size:N0} bytes, more than the {ReportLimits.MaxReportBytes:N0} a node may send; {Keep}. ")
                + "Look under the agent's --root for what makes it so large (certificate bundles, huge files) and move it out of the scanned folders";
        }
        if (report.Certificates.Count > ReportLimits.MaxCertificates)
        {
            return Invariant($"the inventory report lists {report.Certificates.Count:N0} certificates, more than the {ReportLimits.MaxCertificates:N0} a node may report; {Keep}. ")
                + "Look under the agent's --root for folders of certificates that are not the cluster's and move them out of the scanned folders";
        }
        if (report.Errors.Count > ReportLimits.MaxErrors)
        {
            return Invariant($"the inventory report lists {report.Errors.Count:N0} errors, more than the {ReportLimits.MaxErrors:N0} a node may report; {Keep}. ")
                + "Run `certfleet check-expiration` on the node to see them and fix or move the unreadable files";
        }
        if (report.Certificates.FirstOrDefault(c => c.Der.Length > ReportLimits.MaxCertificateBytes) is { } large)
        {
            return Invariant($"the inventory report holds a certificate of {large.Der.Length:N0} bytes at {Bounded(large.Path, 512)}, more than the {ReportLimits.MaxCertificateBytes:N0} one may have; {Keep}. ")
                + "Check that file on the node with `openssl x509 -noout -text` and replace it";
        }
        return null;
    }

    /// <summary>Why one reported certificate cannot be stored, or null when it is fine.</summary>
    private static string? Problem(ReportedCertificate reported)
    {
        const string Ignored = "the coordinator ignores it";
        foreach (var (name, text) in Texts(reported))
        {
            if (!BoundedText.Fits(text, ReportLimits.MaxTextBytes))
            {
                return Invariant($"its {name} is longer than the {ReportLimits.MaxTextBytes:N0} bytes a report may use; {Ignored}");
            }
        }
        if (reported.UsedBy.Count > ReportLimits.MaxUsedBy)
        {
            return Invariant($"it names {reported.UsedBy.Count:N0} units using it, more than the {ReportLimits.MaxUsedBy} a certificate may have; {Ignored}");
        }
        try
        {
            CertificateInfo.Parse(reported.Der.Span, reported.Path);
        }
        catch (PkiException e)
        {
            return $"not a valid X.509 certificate ({e.InnerException?.Message ?? e.Message}); {Ignored}: check the file on the node with `openssl x509 -noout -text`";
        }
        if (StrictDer.Violation(reported.Der.Memory) is { } violation)
        {
            return $"the certificate is BER but not DER ({violation}), which X.509 requires; {Ignored}: re-issue or restore the file on the node";
        }
        return null;
    }

    private static IEnumerable<(string Name, string Text)> Texts(ReportedCertificate reported) =>
    [
        ("path", reported.Path), ("kubeconfig user", reported.KubeconfigUser), ("key path", reported.KeyPath),
        ("issuer path", reported.IssuerPath), ("owner note", reported.OwnerNote), ("rotation link", reported.RotationLink),
        .. reported.UsedBy.Select(u => ("unit name", u)),
    ];

    private static string Bounded(string text, int maxBytes = ReportLimits.MaxTextBytes) => BoundedText.Truncate(text, maxBytes);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
