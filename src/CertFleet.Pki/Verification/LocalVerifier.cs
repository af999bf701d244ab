using System.Globalization;
using CertFleet.Pki.Inventory;
using CertFleet.Pki.Systemd;

namespace CertFleet.Pki.Verification;

/// <summary>
/// The check an agent runs after an install and an operator runs any time: for every certificate, its key
/// matches, it chains to a CA on the node, it is not expired or about to expire; and every file that a unit, its
/// environment or component config, or a kubeconfig names exists. Certificates the kubelet
/// rotates itself are checked for expiry only; the ones it rotated away from, which nothing uses, not at all.
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
            foreach (var reference in unit.FileReferences.Where(r => NamesTlsMaterial(r) && !WrittenByTheKubelet(unit, r)))
            {
                if (!Exists(inventory, reference.Path))
                {
                    problems.Add(new VerificationProblem(reference.Path, null, unit.Name,
                        $"{unit.Name} names it in {reference.Where}, but it does not exist{DanglingLink(inventory, reference.Path)}"));
                }
            }
        }
        // client-certificate and client-key often name one file (the kubelet's kubelet-client-current.pem): one problem
        foreach (var named in inventory.KubeconfigReferences.GroupBy(r => (r.KubeconfigPath, r.Entry, r.IsCluster, r.Path)))
        {
            var reference = named.First();
            if (!Exists(inventory, reference.Path))
            {
                var fields = string.Join(" and ", named.Select(r => r.Field).Distinct());
                var verb = named.Select(r => r.Field).Distinct().Count() > 1 ? "name" : "names";
                problems.Add(new VerificationProblem(reference.Path, reference.IsCluster ? null : reference.Entry, null,
                    $"{fields} of {(reference.IsCluster ? "cluster" : "user")} {reference.Entry} in {reference.KubeconfigPath} {verb} it, "
                    + $"but it does not exist{DanglingLink(inventory, reference.Path)}; whatever uses that kubeconfig fails"));
            }
        }
        return new VerificationReport(inventory.Certificates.Count, inventory.Units.Count, problems);
    }

    private static IEnumerable<string> CertificateProblems(CertificateEntry entry, DateTimeOffset now, TimeSpan threshold)
    {
        var certificate = entry.Certificate;
        if (entry.Owner == RenewalOwner.KubeletRotationHistory)
        {
            yield break; // nothing uses it
        }
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
            // renew --local leaves a certificate the kubelet rotates: what to look at is why its rotation has not happened
            var rotating = entry.Owner == RenewalOwner.KubeletRotation
                ? "; the kubelet rotates it itself, so check that its rotation works (its CSRs approved, kube-controller-manager's --cluster-signing-* files)"
                : "";
            yield return string.Create(CultureInfo.InvariantCulture,
                $"expires on {certificate.NotAfter:yyyy-MM-dd HH:mm} UTC, within {threshold.TotalDays:0} days{rotating}");
        }
        if (certificate.NotBefore > now)
        {
            yield return string.Create(CultureInfo.InvariantCulture, $"not valid before {certificate.NotBefore:yyyy-MM-dd HH:mm} UTC (check the clock)");
        }
    }

    // a flag such as --resolv-conf=/etc/resolv.conf is read for what it may hold, but is no certificate to miss
    private static bool NamesTlsMaterial(UnitFileReference reference) =>
        FileReferenceFinder.IsAboutTls(reference.Setting) || FileReferenceFinder.IsComponentConfigSetting(reference.Setting)
        || (FileReferenceFinder.HasTlsExtension(reference.Path) && !reference.Path.EndsWith(".conf", StringComparison.Ordinal));

    // the kubelet writes its --kubeconfig itself when it bootstraps from --bootstrap-kubeconfig
    private static bool WrittenByTheKubelet(SystemdUnit unit, UnitFileReference reference) =>
        reference.Setting.TrimStart('-') == "kubeconfig" && reference.Source is null && unit.GetSetting("--bootstrap-kubeconfig") is not null;

    /// <summary>", a link to X, which is gone" for a symbolic link that leads nowhere: X is the file to restore.</summary>
    private static string DanglingLink(NodeInventory inventory, string nodePath)
    {
        try
        {
            return inventory.Root.SymlinkTarget(nodePath) is { } target ? $" (a link to {target}, which is gone)" : "";
        }
        catch (PkiException)
        {
            return "";
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
