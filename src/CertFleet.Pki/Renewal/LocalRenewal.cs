using CertFleet.Pki.Inventory;

namespace CertFleet.Pki.Renewal;

/// <summary>What a renewal changed, and where the old files are.</summary>
public sealed record RenewalResult(IReadOnlyList<RenewedCertificate> Renewed, IReadOnlyList<string> ChangedFiles, string? BackupDirectory);

/// <summary>
/// `renew --local`: issue every new certificate of the plan in memory first, then install them all through the
/// <see cref="CertificateInstaller"/> (backups, atomic writes, put back on failure).
/// </summary>
public sealed class LocalRenewal(TimeProvider time)
{
    public RenewalResult Apply(NodeInventory inventory, RenewalPlan plan, RenewalOptions options)
    {
        if (plan.IsEmpty)
        {
            return new RenewalResult([], [], null);
        }
        var renewed = new CertificateRenewer(time).Issue(plan, options);
        var replacements = renewed.ToDictionary(r => r.Plan.Current.Sha256Fingerprint, r => r.Certificate, StringComparer.Ordinal);
        var removals = plan.Removals.Select(r => r.Certificate.Sha256Fingerprint).ToHashSet(StringComparer.Ordinal);
        var installed = new CertificateInstaller(time).Install(inventory, replacements, removals: removals);
        return new RenewalResult(renewed, installed.ChangedFiles, installed.BackupDirectory);
    }
}
