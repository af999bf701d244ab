using CertFleet.Pki.Files;
using CertFleet.Pki.Inventory;

namespace CertFleet.Pki.Renewal;

/// <summary>What a renewal changed, and where the old files are.</summary>
public sealed record RenewalResult(IReadOnlyList<RenewedCertificate> Renewed, IReadOnlyList<string> ChangedFiles, string? BackupDirectory);

/// <summary>
/// Carries out a renewal plan on one node: issue every new certificate in memory first, compute every file's
/// new content, back every file up, then replace them one by one atomically. Keys never change, so after a
/// crash at any point each certificate on disk is the old or the new one, and either matches its key and chains
/// to the (same-key) CA. If a write fails, the files already written are put back: nothing half-done remains.
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
        var edits = FileEdits.Compute(renewed);
        foreach (var edit in edits)
        {
            EnsureUnchangedSinceScan(edit.File);
        }

        var backup = BackupSet.Create(inventory.Root, time.GetUtcNow());
        foreach (var edit in edits)
        {
            backup.Save(edit.File.Path);
        }
        FaultPoints.Reached("renew:after-backup");

        foreach (var folder in edits.Select(e => Path.GetDirectoryName(e.File.HostPath)!).Distinct(StringComparer.Ordinal))
        {
            AtomicFile.RemoveStaleTemporaries(folder);
        }
        var written = 0;
        try
        {
            foreach (var edit in edits)
            {
                AtomicFile.Replace(edit.File.HostPath, edit.NewContent);
                written++;
                FaultPoints.Reached("renew:after-file");
            }
        }
        catch (PkiException e) when (written > 0)
        {
            backup.RestoreAll();
            throw new PkiException(
                $"{e.Message}. The {written} file(s) already written were put back from {backup.NodeDirectory}: nothing changed", e);
        }
        return new RenewalResult(renewed, edits.Select(e => e.File.Path).Order(StringComparer.Ordinal).ToList(), backup.NodeDirectory);
    }

    private static void EnsureUnchangedSinceScan(ScannedFile file)
    {
        var current = File.Exists(file.HostPath) ? File.ReadAllText(file.HostPath) : null;
        if (current != file.Text)
        {
            throw new PkiException($"{file.Path} changed while certfleet was reading the node; nothing was written, run the command again");
        }
    }
}
