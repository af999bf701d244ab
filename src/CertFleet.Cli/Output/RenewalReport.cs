using System.Globalization;
using CertFleet.Pki.Inventory;
using CertFleet.Pki.Renewal;
using static CertFleet.Cli.Output.TerminalText;

namespace CertFleet.Cli.Output;

/// <summary>What `renew --local` prints: the plan, what was skipped and why, the summary and the restarts to do.</summary>
internal static class RenewalReport
{
    public static void WritePlan(TextWriter output, RenewalPlan plan, NodeInventory inventory, bool dryRun)
    {
        var verb = dryRun ? "Would renew" : "Renewing";
        if (plan.IsEmpty)
        {
            output.WriteLine("Nothing to renew on this node.");
        }
        else
        {
            output.WriteLine($"{verb} {Count(plan.Authorities.Count + plan.Leaves.Count, "certificate")} with their existing keys:");
            var table = new TextTable("CERTIFICATE", "SUBJECT", "EXPIRES", "NEW EXPIRY", "SIGNED BY");
            foreach (var renewal in plan.All)
            {
                table.Add(Places(renewal.Occurrences), renewal.Current.Subject, Day(renewal.Current.NotAfter),
                    Day(renewal.NewNotAfter), renewal.IsKubeletServing ? "itself (the kubelet's own pair)"
                        : renewal.IsSelfSigned ? "itself (same key)" : renewal.Issuer.Subject);
            }
            table.WriteTo(output);
        }
        foreach (var removed in plan.Removals)
        {
            output.WriteLine($"  {Shown(removed.Path)}: the kubelet's throwaway CA {Shown(removed.Certificate.Subject)} (its key is gone) leaves the file; "
                + "the renewed serving certificate is self-signed");
        }
        if (plan.Skipped.Count > 0)
        {
            output.WriteLine();
            output.WriteLine("Left alone:");
            foreach (var skipped in plan.Skipped)
            {
                var name = skipped.KubeconfigUser is null ? skipped.Path : $"{skipped.Path} (user {skipped.KubeconfigUser})";
                output.WriteLine($"  {Shown(name)}: {Shown(skipped.Reason)}");
            }
        }
        foreach (var error in inventory.Errors)
        {
            output.WriteLine($"  {Shown(error.Path)}: could not be read: {Shown(error.Message)}");
        }
        foreach (var warning in plan.Warnings)
        {
            output.WriteLine();
            output.WriteLine($"warning: {Shown(warning)}");
        }
        WriteRestarts(output, plan, dryRun);
    }

    public static void WriteResult(TextWriter output, RenewalPlan plan, RenewalResult result)
    {
        if (result.Renewed.Count == 0)
        {
            return;
        }
        output.WriteLine();
        output.WriteLine($"Renewed {Count(result.Renewed.Count, "certificate")} in {Count(result.ChangedFiles.Count, "file")}; "
            + $"the previous files are in {result.BackupDirectory}.");
        foreach (var file in result.ChangedFiles)
        {
            output.WriteLine($"  changed {Shown(file)}");
        }
        if (plan.UnitsToRestart.Count > 0)
        {
            output.WriteLine();
            output.WriteLine("Now restart, in this order, checking each is healthy before the next:");
            output.WriteLine($"  systemctl restart {string.Join(" && systemctl restart ", plan.UnitsToRestart.Select(Shown))}");
        }
    }

    private static void WriteRestarts(TextWriter output, RenewalPlan plan, bool dryRun)
    {
        if (plan.UnitsToRestart.Count > 0 && dryRun)
        {
            output.WriteLine();
            output.WriteLine($"Units to restart afterwards, in order: {string.Join(", ", plan.UnitsToRestart.Select(Shown))}");
        }
    }

    private static string Places(IReadOnlyList<CertificateEntry> occurrences)
    {
        var first = occurrences[0].DisplayName;
        return occurrences.Count == 1 ? first : $"{first} (+{occurrences.Count - 1} more)";
    }

    private static string Day(DateTimeOffset moment) => moment.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static string Count(int n, string noun) => n == 1 ? $"1 {noun}" : $"{n} {noun}s";
}
