using System.Globalization;
using CertFleet.Pki.Inventory;

namespace CertFleet.Pki.Verification;

/// <summary>
/// The check an agent runs after an install and an operator runs any time: for every certificate, its key
/// matches, it chains to a CA on the node, it is not expired or about to expire; and every file a unit names
/// exists. Certificates the kubelet manages itself are checked for expiry only.
/// </summary>
public sealed class LocalVerifier(TimeProvider time)
{
    public static readonly TimeSpan DefaultWarningThreshold = TimeSpan.FromDays(30);

    public VerificationReport Verify(NodeInventory inventory, TimeSpan warningThreshold)
    {
        var now = time.GetUtcNow();
        var problems = new List<VerificationProblem>();
        problems.AddRange(inventory.Errors.Select(e => new VerificationProblem(e.Path, null, null, e.Message)));
        foreach (var entry in inventory.Certificates)
        {
            foreach (var problem in CertificateProblems(entry, now, warningThreshold))
            {
                problems.Add(new VerificationProblem(entry.Path, entry.KubeconfigUser, null, problem));
            }
        }
        foreach (var unit in inventory.Units)
        {
            foreach (var reference in unit.FileReferences)
            {
                if (!Exists(inventory, reference.Path))
                {
                    problems.Add(new VerificationProblem(reference.Path, null, unit.Name,
                        $"{unit.Name} names it in {reference.Setting}, but it does not exist"));
                }
            }
        }
        return new VerificationReport(inventory.Certificates.Count, inventory.Units.Count, problems);
    }

    private static IEnumerable<string> CertificateProblems(CertificateEntry entry, DateTimeOffset now, TimeSpan threshold)
    {
        var certificate = entry.Certificate;
        var managedElsewhere = entry.Owner is RenewalOwner.KubeletRotation or RenewalOwner.KubeletSelfSigned;
        if (entry.KeyMatches == false)
        {
            yield return $"its key {entry.KeyPath} does not match it";
        }
        else if (entry.KeyMatches is null && !certificate.IsCa)
        {
            yield return "no private key for it on this node";
        }
        if (!managedElsewhere && entry.IssuerCertificate is null && entry.Owner != RenewalOwner.SelfSigned)
        {
            yield return $"does not chain to a CA on this node (issuer {certificate.Issuer} not found, or its signature does not verify)";
        }
        if (certificate.NotAfter <= now)
        {
            yield return string.Create(CultureInfo.InvariantCulture, $"expired on {certificate.NotAfter:yyyy-MM-dd HH:mm} UTC");
        }
        else if (certificate.NotAfter - now < threshold)
        {
            yield return string.Create(CultureInfo.InvariantCulture,
                $"expires on {certificate.NotAfter:yyyy-MM-dd HH:mm} UTC, within {threshold.TotalDays:0} days");
        }
        if (certificate.NotBefore > now)
        {
            yield return string.Create(CultureInfo.InvariantCulture, $"not valid before {certificate.NotBefore:yyyy-MM-dd HH:mm} UTC (check the clock)");
        }
    }

    private static bool Exists(NodeInventory inventory, string nodePath)
    {
        try
        {
            var hostPath = inventory.Root.Resolve(nodePath);
            return File.Exists(hostPath) || Directory.Exists(hostPath);
        }
        catch (PkiException)
        {
            return false;
        }
    }
}
