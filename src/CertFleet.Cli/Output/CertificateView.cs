using CertFleet.Pki.Certificates;
using CertFleet.Pki.Inventory;
using CertFleet.Protocol.V1;

namespace CertFleet.Cli.Output;

/// <summary>One certificate occurrence as the check-expiration schema shows it, whether scanned here or reported by an agent.</summary>
internal sealed record CertificateView(string Path, string? KubeconfigUser, CertificateInfo Certificate, string? KeyPath,
    bool? KeyMatches, IReadOnlyList<string> UsedBy)
{
    /// <summary>The coordinator's CA that issued it, as the coordinator describes it (fleet only); null when not said.</summary>
    public string? IssuedBy { get; init; }

    public static CertificateView From(CertificateEntry entry) =>
        new(entry.Path, entry.KubeconfigUser, entry.Certificate, entry.KeyPath, entry.KeyMatches, entry.UsedBy);

    public static CertificateView From(ReportedCertificate reported) =>
        new(reported.Path,
            reported.KubeconfigUser.Length == 0 ? null : reported.KubeconfigUser,
            CertificateInfo.Parse(reported.Der.Span, reported.Path),
            reported.KeyPath.Length == 0 ? null : reported.KeyPath,
            reported.KeyState switch
            {
                KeyState.Matches => true,
                KeyState.Mismatch => false,
                _ => null,
            },
            [.. reported.UsedBy])
        {
            IssuedBy = reported.IssuedBy.Length == 0 ? null : reported.IssuedBy,
        };
}
