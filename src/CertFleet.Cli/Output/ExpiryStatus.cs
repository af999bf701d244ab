using CertFleet.Pki.Inventory;

namespace CertFleet.Cli.Output;

/// <summary>The STATUS column: what an operator must notice first about a certificate.</summary>
internal static class ExpiryStatus
{
    /// <summary>Certificates expiring sooner than this are marked, as most expiry alerts do.</summary>
    public static readonly TimeSpan SoonThreshold = TimeSpan.FromDays(30);

    public static string Of(CertificateEntry entry, DateTimeOffset now)
    {
        var residual = entry.Certificate.NotAfter - now;
        var expiry = residual <= TimeSpan.Zero ? "EXPIRED" : residual < SoonThreshold ? "EXPIRING" : "ok";
        var note = entry switch
        {
            { Owner: RenewalOwner.KubeletRotation } => "kubelet rotates it",
            { Owner: RenewalOwner.KubeletRotationHistory } => "kubelet's old, unused",
            { Owner: RenewalOwner.KubeletSelfSigned, Certificate.IsCa: true } => "kubelet's throwaway CA",
            { Owner: RenewalOwner.KubeletSelfSigned } => "kubelet self-signed",
            { Owner: RenewalOwner.SelfSigned } => "self-signed",
            { KeyMatches: false } => "KEY MISMATCH",
            _ => null,
        };
        return note is null ? expiry : $"{expiry}, {note}";
    }
}
